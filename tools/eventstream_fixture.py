#!/usr/bin/python3
"""Event-stream replies (application/vnd.amazon.eventstream) on 127.0.0.1, for the specs and the
Bedrock example. Messages are built here with the standard library alone (struct + zlib.crc32),
apart from the C decoder, and sent with chunked transfer encoding, one HTTP chunk per message,
sleeping between events so that a client can show them as they arrive.

Routes (the paths the SDK sends; the name in the path picks the script):
  POST /model/<id>/converse-stream     Bedrock converseStream; <id>:
       chat          messageStart, contentBlockDelta x N (the words of a reply), contentBlockStop,
                     messageStop, metadata
       throttle      two deltas, then a modeled throttlingException
       badcrc        two deltas, then a message whose CRC is wrong (then more, never read)
       slow          200 deltas, 100 ms apart (for abort and backpressure specs)
  POST /<bucket>/<key>?select...       S3 selectObjectContent: Records x N, Stats, Progress, End;
       a key "big-<bytes>" streams that many bytes of CSV records in 64 KiB Records events,
       without sleeping
  POST /2021-11-15/functions/<name>/response-streaming-invocations
                                       Lambda invokeWithResponseStream: PayloadChunk x 3, then
                                       InvokeComplete with ErrorCode "Unhandled"
  GET  /_stats                         JSON {"streams": started, "finished": sent to the end,
                                       "disconnected": ended by the client, "active": in progress}
The pause between events is 0.15 s, or $EVENTSTREAM_FIXTURE_DELAY seconds.
Prints "PORT <n>" and "PID <pid>" first; exits when its parent dies or on SIGTERM."""
import json
import os
import re
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DELAY = float(os.environ.get("EVENTSTREAM_FIXTURE_DELAY", "0.15"))
stats = {"streams": 0, "finished": 0, "disconnected": 0, "active": 0}
lock = threading.Lock()

REPLY = ("Event streams deliver a model's answer token by token, so a script can print each word "
         "the moment it is generated instead of waiting for the whole reply.")


def header(name, value):
    raw = name.encode()
    data = value.encode() if isinstance(value, str) else value
    return struct.pack(">B", len(raw)) + raw + b"\x07" + struct.pack(">H", len(data)) + data


def message(headers, payload=b""):
    if isinstance(payload, str):
        payload = payload.encode()
    hdrs = b"".join(header(k, v) for k, v in headers)
    total = 16 + len(hdrs) + len(payload)
    prelude = struct.pack(">II", total, len(hdrs))
    head = prelude + struct.pack(">I", zlib.crc32(prelude) & 0xFFFFFFFF) + hdrs + payload
    return head + struct.pack(">I", zlib.crc32(head) & 0xFFFFFFFF)


def event(kind, payload, content_type="application/json"):
    if not isinstance(payload, (bytes, str)):
        payload = json.dumps(payload)
    return message([(":message-type", "event"), (":event-type", kind), (":content-type", content_type)],
                   payload)


def exception(kind, payload):
    return message([(":message-type", "exception"), (":exception-type", kind),
                    (":content-type", "application/json")], json.dumps(payload))


def corrupt(msg):
    return msg[:-1] + bytes([msg[-1] ^ 0xFF])


def words():
    return re.findall(r"\S+\s*", REPLY)


def delta(text):
    return event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text}})


def converse(model):
    """(message, pause before it) pairs of one Bedrock script."""
    yield event("messageStart", {"role": "assistant"}), 0
    if model == "throttle":
        yield delta("Hello "), DELAY
        yield delta("there"), DELAY
        yield exception("throttlingException", {"message": "Too many tokens, please wait."}), DELAY
        return
    if model == "badcrc":
        yield delta("Hello "), DELAY
        yield delta("there"), DELAY
        yield corrupt(delta(" never")), DELAY
        yield delta(" read"), DELAY
        return
    pieces = words() if model != "slow" else ["tick "] * 200
    pause = DELAY if model != "slow" else 0.1
    for text in pieces:
        yield delta(text), pause
    yield event("contentBlockStop", {"contentBlockIndex": 0}), pause
    yield event("messageStop", {"stopReason": "end_turn"}), pause
    yield event("metadata", {"usage": {"inputTokens": 12, "outputTokens": len(pieces), "totalTokens": 12 + len(pieces)},
                             "metrics": {"latencyMs": 321}}), 0


def details(tag, n):
    return ("<%s><BytesScanned>%d</BytesScanned><BytesProcessed>%d</BytesProcessed>"
            "<BytesReturned>%d</BytesReturned></%s>" % (tag, n, n, n, tag))


def select(key):
    big = re.match(r"big-(\d+)$", key)
    if big:
        left = int(big.group(1))
        line = b"0123456789,abcdefghijklmnopqrstuvwxyz,ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
        block = line * (65536 // len(line))
        sent = 0
        while left > 0:
            piece = block[:left]
            left -= len(piece)
            sent += len(piece)
            yield event("Records", piece, "application/octet-stream"), 0
        yield event("Stats", details("Stats", sent), "text/xml"), 0
        yield message([(":message-type", "event"), (":event-type", "End")]), 0
        return
    for i in range(3):
        yield event("Records", "id,name\n%d,row%d\n" % (i, i), "application/octet-stream"), DELAY
    yield event("Progress", details("Progress", 42), "text/xml"), DELAY
    yield event("Stats", details("Stats", 42), "text/xml"), DELAY
    yield message([(":message-type", "event"), (":event-type", "End")]), 0


def invoke(name):
    for i in range(3):
        yield event("PayloadChunk", '{"part": %d}' % i, "application/octet-stream"), DELAY
    yield event("InvokeComplete", {"ErrorCode": "Unhandled", "ErrorDetails": "boom", "LogResult": "bG9ncw=="}), 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        if self.path == "/_stats":
            with lock:
                body = json.dumps(stats).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.fail(404, "NotFound")

    def fail(self, status, code):
        body = json.dumps({"message": "no route for " + self.path}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Amzn-ErrorType", code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?")[0]
        m = re.match(r"^/model/([^/]+)/converse-stream$", path)
        script, extra = None, {}
        if m and m.group(1) in ("chat", "throttle", "badcrc", "slow"):
            script = converse(m.group(1))
        elif re.match(r"^/2021-11-15/functions/([^/]+)/response-streaming-invocations$", path):
            script = invoke(path.split("/")[3])
            extra = {"X-Amz-Executed-Version": "$LATEST"}
        elif "select" in self.path:
            script = select(path.rsplit("/", 1)[-1])
        if script is None:
            return self.fail(404, "ResourceNotFoundException")
        self.stream(script, extra)

    def stream(self, script, extra):
        with lock:
            stats["streams"] += 1
            stats["active"] += 1
        outcome = "finished"
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.amazon.eventstream")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("x-amzn-RequestId", "fixture-request")
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.flush()
            for msg, pause in script:
                if pause:
                    time.sleep(pause)
                self.wfile.write(b"%x\r\n" % len(msg) + msg + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            outcome = "disconnected"
            self.close_connection = True
        finally:
            with lock:
                stats[outcome] += 1
                stats["active"] -= 1


def watch_parent(parent):
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    print("PORT %d\nPID %d" % (server.server_address[1], os.getpid()), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
