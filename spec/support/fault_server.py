#!/usr/bin/python3
"""A misbehaving AWS-like JSON endpoint on 127.0.0.1 for the engine specs.

Paths (a trailing slash is ignored; the JSON protocol posts to the endpoint's path):
  /ok                          200 {"ok": true}
  /delay/<ms>                  sleeps, then 200
  /flaky/<key>/<n>/<status>    the first n requests for key get <status> with an InternalFailure
                               body, later ones 200 {"attempt": k}
  /throttle/<key>/<n>/<Code>   the first n get 400 {"__type": Code}, then 200
  /crc/<key>                   200 with an x-amz-crc32 that is wrong the first time, right later
  http://host/...              (absolute-form, as a proxy receives it) counted in _proxied
  /expired/<key>               the first gets 400 ExpiredTokenException, then 200
  /skew/<key>                  until a request is signed within 5 minutes of the server clock,
                               403 RequestTimeTooSkewed with a Date one hour ahead of real time
  /reset                       promises 1000 bytes, sends 10, resets the connection
  /never                       reads the request and never answers
  /verify/<secret...>          checks the SigV4 signature with botocore against <secret>:
                               403 SignatureDoesNotMatch when it differs, else 200 with the
                               canonical request botocore computed
  /_count/<key>                200 {"count": n}: requests seen for key (_connections: connections
                               accepted)
  /_concurrency                200 {"count": n}: the most /delay requests in flight at once
  /_stallport                  200 {"count": port}: a port whose listener never completes a connection
  /record/<key>/...            records the request (method, path, headers, body) under key and answers
                               the reply set for key (default 200 {}); for wire-format specs
  /_reply/<key>                (POST) sets key's reply: {"status":, "headers": {...}, "body": text}
  /_recorded/<key>             200 with the requests recorded under key, oldest first
  /_record_root/<key>          from now on, requests to / are recorded under key too (a client that
                               keeps only the host of a URL, e.g. SQS's QueueUrl)
  /_reply/<key> with {"sequence": [reply, ...]}: the n-th request gets the n-th reply, the last
                               one repeats (a fault, then a recovery)
  /deepjson/<depth>            200 with a JSON body nested <depth> objects deep ({"m":{"m":...}})
  /hugeheader/<bytes>          200 {} with one x-amz-meta-huge header of <bytes> bytes
  /hugebody/<bytes>            200 with a JSON body of <bytes> bytes ({"v": "xxxx..."}), streamed
  /truncated                   promises a 100-byte JSON body, sends 20 and closes (no reset)
  /reset_before                reads the request and resets the connection before any byte
  /reset_headers               sends half a status line and headers, then resets
  /stall_body                  sends the headers and 10 of 1000 body bytes, then stalls for ever
  /s3mp/...                    an in-memory S3 with multipart uploads (spec/support/mini_s3.py)
  /reset_reused/<key>          counts the send under key; answers 200 {"ok": true} when it is the
                               first request on its connection, else resets before any byte (a
                               reused keep-alive connection dying under the next request)
Prints "PORT <n>" first; exits when its parent dies or on SIGTERM."""
import json
import os
import socket
import struct
import sys
import threading
import time
import zlib
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mini_s3

counts = {}
lock = threading.RLock()


def bump(key):
    with lock:
        counts[key] = counts.get(key, 0) + 1
        return counts[key]


def amz_skew_ok(headers):
    stamp = headers.get("X-Amz-Date")
    if not stamp:
        return False
    t = time.mktime(time.strptime(stamp, "%Y%m%dT%H%M%SZ")) - time.timezone
    return abs(t - (time.time() + 3600)) < 300


def verify(handler, body, secret):
    try:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
    except ImportError:
        return 500, {"__type": "FixtureError", "message": "botocore is not installed"}
    auth = handler.headers.get("Authorization", "")
    try:
        fields = dict(p.strip().split("=", 1) for p in auth.split(" ", 1)[1].split(","))
        key_id, date, region, service, _ = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
    except Exception:
        return 403, {"__type": "IncompleteSignature", "message": "no parsable Authorization header"}
    url = "http://" + handler.headers["Host"] + handler.path
    headers = {name: handler.headers[name] for name in signed if handler.headers.get(name) is not None}
    req = AWSRequest(method=handler.command, url=url, data=body, headers=headers)
    signer = SigV4Auth(Credentials(key_id, secret, handler.headers.get("X-Amz-Security-Token")), service, region)
    req.context["timestamp"] = handler.headers["X-Amz-Date"]
    canonical = signer.canonical_request(req)
    string_to_sign = signer.string_to_sign(req, canonical)
    expected = signer.signature(string_to_sign, req)
    if expected != fields.get("Signature"):
        return 403, {"__type": "SignatureDoesNotMatch",
                     "message": "The request signature we calculated does not match the signature you provided.",
                     "canonicalRequest": canonical}
    return 200, {"verified": True, "canonicalRequest": canonical}


inflight = {"now": 0, "max": 0}
recorded = {}
replies = {}
recorded_root = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        bump("_connections")
        super().setup()

    def log_message(self, fmt, *args):
        if os.environ.get("FAULT_SERVER_LOG"):
            sys.stderr.write("fault_server: " + (fmt % args) + "\n")

    def date_time_string(self, timestamp=None):
        return getattr(self, "date_override", None) or super().date_time_string(timestamp)

    def reply(self, status, payload, extra=None):
        body = json.dumps(payload).encode()
        extra = dict(extra or {})
        self.date_override = extra.pop("Date", None)
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "req-%d" % bump("_requests"))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        self.served = getattr(self, "served", 0) + 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path
        if path.startswith("http://"):
            # absolute-form: we are being used as a forward proxy
            bump("_proxied")
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        parts = [p for p in path.split("?")[0].split("/") if p]
        if not parts and recorded_root:
            return self.record(recorded_root[0], body)
        kind = parts[0] if parts else "ok"
        if kind == "s3mp":
            return mini_s3.handle(self, body)
        if kind == "ok":
            return self.reply(200, {"ok": True})
        if kind == "delay":
            with lock:
                inflight["now"] += 1
                inflight["max"] = max(inflight["max"], inflight["now"])
            time.sleep(int(parts[1]) / 1000.0)
            with lock:
                inflight["now"] -= 1
            return self.reply(200, {"ok": True})
        if kind == "flaky":
            key, n, status = parts[1], int(parts[2]), int(parts[3])
            k = bump(key)
            if k <= n:
                return self.reply(status, {"__type": "InternalFailure", "message": "attempt %d fails" % k})
            return self.reply(200, {"attempt": k})
        if kind == "throttle":
            key, n, code = parts[1], int(parts[2]), parts[3]
            k = bump(key)
            if k <= n:
                return self.reply(400, {"__type": code, "message": "slow down"})
            return self.reply(200, {"attempt": k})
        if kind == "crc":
            k = bump(parts[1])
            body = json.dumps({"attempt": k}).encode()
            crc = zlib.crc32(body) + (1 if k == 1 else 0)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amz-crc32", str(crc))
            self.end_headers()
            self.wfile.write(body)
            return
        if kind == "expired":
            k = bump(parts[1])
            if k == 1:
                return self.reply(400, {"__type": "ExpiredTokenException", "message": "The security token expired"})
            return self.reply(200, {"attempt": k})
        if kind == "skew":
            k = bump(parts[1])
            if not amz_skew_ok(self.headers):
                return self.reply(403, {"__type": "RequestTimeTooSkewed", "message": "too far from server time"},
                                  {"Date": formatdate(time.time() + 3600, usegmt=True)})
            return self.reply(200, {"attempt": k})
        if kind == "reset":
            bump("reset")
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if kind in HOSTILE:
            bump(kind)
            return HOSTILE[kind](self, parts)
        if kind == "never":
            bump("never")
            while True:
                time.sleep(3600)
        if kind == "verify":
            status, payload = verify(self, body, "/".join(parts[1:]))
            return self.reply(status, payload)
        if kind == "record":
            return self.record(parts[1], body)
        if kind == "_reply":
            with lock:
                replies[parts[1]] = json.loads(body or b"{}")
            return self.reply(200, {"ok": True})
        if kind == "_record_root":
            recorded_root[:] = [parts[1]]
            return self.reply(200, {"ok": True})
        if kind == "_recorded":
            with lock:
                return self.reply(200, recorded.get(parts[1], []))
        if kind == "_stallport":
            return self.reply(200, {"count": STALL_PORT})
        if kind == "_concurrency":
            with lock:
                return self.reply(200, {"count": inflight["max"]})
        if kind == "_count":
            with lock:
                return self.reply(200, {"count": counts.get(parts[1], 0)})
        return self.reply(404, {"__type": "UnknownPath", "message": self.path})

    def record(self, key, body):
        with lock:
            seen = recorded.setdefault(key, [])
            seen.append({
                "method": self.command, "path": self.path,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body": body.decode("latin-1")})
            canned = replies.get(key, {})
            if "sequence" in canned:
                sequence = canned["sequence"]
                canned = sequence[min(len(seen), len(sequence)) - 1]
        payload = canned.get("body", "{}").encode("latin-1")
        self.send_response(canned.get("status", 200))
        for name, value in canned.get("headers", {"Content-Type": "application/x-amz-json-1.0"}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", "req-%d" % bump("_requests"))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def reset(handler):
    """Closes with an RST (SO_LINGER 0): the client sees ECONNRESET, not a clean end."""
    handler.wfile.flush()
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def send_json_head(handler, length, extra=()):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/x-amz-json-1.1")
    handler.send_header("Content-Length", str(length))
    for name, value in extra:
        handler.send_header(name, value)
    handler.end_headers()


def deep_json(handler, parts):
    depth = int(parts[1])
    body = ('{"m":' * depth + "{}" + "}" * depth).encode()
    send_json_head(handler, len(body))
    handler.wfile.write(body)


def huge_header(handler, parts):
    send_json_head(handler, 2, [("x-amz-meta-huge", "h" * int(parts[1]))])
    handler.wfile.write(b"{}")


def huge_body(handler, parts):
    size = int(parts[1])
    head, tail = b'{"v": "', b'"}'
    send_json_head(handler, size)
    handler.wfile.write(head)
    left = size - len(head) - len(tail)
    chunk = b"x" * (1 << 20)
    while left > 0:
        piece = chunk[:min(left, len(chunk))]
        handler.wfile.write(piece)
        left -= len(piece)
    handler.wfile.write(tail)


def truncated(handler, parts):
    send_json_head(handler, 100)
    handler.wfile.write(b'{"v": "only twenty')
    handler.wfile.flush()
    handler.close_connection = True


def reset_before(handler, parts):
    reset(handler)


def reset_headers(handler, parts):
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Le")
    reset(handler)


def reset_reused(handler, parts):
    bump(parts[1])
    if handler.served > 1:
        return reset(handler)
    return handler.reply(200, {"ok": True})


def stall_body(handler, parts):
    send_json_head(handler, 1000)
    handler.wfile.write(b'{"v": "12')
    handler.wfile.flush()
    while True:
        time.sleep(3600)


HOSTILE = {
    "deepjson": deep_json, "hugeheader": huge_header, "hugebody": huge_body, "truncated": truncated,
    "reset_before": reset_before, "reset_headers": reset_headers, "stall_body": stall_body,
    "reset_reused": reset_reused,
}


def watch_parent(parent):
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


STALL_PORT = 0
_stall_keep = []


def open_stalled_listener():
    """A listener whose accept queue is full: further connection attempts get no answer at all,
    which is how a connect timeout is provoked without leaving the loopback interface."""
    global STALL_PORT
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    STALL_PORT = listener.getsockname()[1]
    _stall_keep.append(listener)
    for _ in range(3):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", STALL_PORT))
        except BlockingIOError:
            pass
        _stall_keep.append(filler)


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # a client that resets or goes away mid-fault is part of the game, not news
        if os.environ.get("FAULT_SERVER_LOG"):
            super().handle_error(request, client_address)


def serve(server):
    """Announces the port and pid as spec/support/servers.lua expects and serves until the parent
    dies (stream_server.py uses it too)."""
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    print("PID %d" % os.getpid(), flush=True)
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    server.serve_forever()


def main():
    open_stalled_listener()
    serve(Server(("127.0.0.1", 0), Handler))


if __name__ == "__main__":
    main()
