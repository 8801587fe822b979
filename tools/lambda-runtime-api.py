#!/usr/bin/python3
"""A local stand-in for the AWS Lambda Runtime API (2018-06-01), on 127.0.0.1.

The real Runtime API is a closed binary inside Lambda; this one follows its documented contract
closely enough to run awspromise.lambda against it, and records what the runtime posts so that
specs and benchmarks can look. Standard library only.

Prints "PORT <n>" then "PID <pid>" on stdout and nothing else there; exits on SIGTERM or when its
parent dies (PR_SET_PDEATHSIG).

The runtime's side (what a Lambda runtime calls)
  GET  /2018-06-01/runtime/invocation/next          long poll: the next queued invocation; headers
                                                    Lambda-Runtime-Aws-Request-Id, -Deadline-Ms
                                                    (set when the invocation is handed out),
                                                    -Invoked-Function-Arn, -Trace-Id, and
                                                    -Client-Context / -Cognito-Identity when given
  POST /2018-06-01/runtime/invocation/<id>/response 202; 400 for an id not handed out or already
                                                    answered; 413 past the payload limit
  POST /2018-06-01/runtime/invocation/<id>/error    202 (records Lambda-Runtime-Function-Error-Type)
  POST /2018-06-01/runtime/init/error               202 (records the same)

The driver's side (specs, bench)
  POST /_control/invoke        {"payload": "<event text>", "count": n, "timeout_ms": ms,
                                "client_context": "<json text>", "cognito_identity": "<json text>"}
                               queues n invocations (default 1, 3000 ms); answers {"ids": [...]}
  GET  /_control/result/<id>?wait_ms=ms
                               waits for that invocation's outcome: {"id", "kind": "response" |
                               "error", "body", "error_type", "headers", "answered_ms" (from hand-out
                               to answer)}; 404 when still unanswered after wait_ms (default 5000)
  GET  /_control/state         {"next_calls": [epoch seconds of each /next], "init_error": {...} or
                               null, "queued": n, "in_flight": n, "answered": n, "rejected": [...]}

--max-payload BYTES sets the response limit (default 6 MB, Lambda's synchronous limit).
"""
import argparse
import ctypes
import json
import os
import select
import socket
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"
PR_SET_PDEATHSIG = 1
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:fixture-function"

changed = threading.Condition()
queue = []          # invocations waiting for /next
in_flight = {}      # id -> invocation handed out, not yet answered
results = {}        # id -> outcome
next_calls = []
rejected = []       # posts the API refused, for the specs to see
state = {"init_error": None, "counter": 0, "max_payload": 6 * 1024 * 1024}


def new_id():
    state["counter"] += 1
    return "fixture-%06d-%d" % (state["counter"], os.getpid())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave in two writes: no 40 ms delayed-ACK stall

    def log_message(self, fmt, *args):  # stdout belongs to the PORT line; stay quiet
        pass

    def answer(self, status, doc=None, headers=None, body=None):
        data = body if body is not None else json.dumps(doc if doc is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == PREFIX + "/invocation/next":
            return self.hand_out_next()
        if url.path.startswith("/_control/result/"):
            query = urllib.parse.parse_qs(url.query)
            return self.wait_result(url.path.rsplit("/", 1)[1], int(query.get("wait_ms", ["5000"])[0]))
        if url.path == "/_control/state":
            with changed:
                doc = {"next_calls": list(next_calls), "init_error": state["init_error"], "queued": len(queue),
                       "in_flight": len(in_flight), "answered": len(results), "rejected": list(rejected)}
            return self.answer(200, doc)
        return self.answer(404, {"errorMessage": "no such path " + url.path})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        body = self.read_body()
        if path == "/_control/invoke":
            return self.queue_invocations(json.loads(body or b"{}"))
        if path == PREFIX + "/init/error":
            with changed:
                state["init_error"] = self.outcome("error", body)
                changed.notify_all()
            return self.answer(202, {"status": "OK"})
        parts = path[len(PREFIX):].split("/") if path.startswith(PREFIX) else []
        # ["", "invocation", id, "response" | "error"]
        if len(parts) == 4 and parts[1] == "invocation" and parts[3] in ("response", "error"):
            return self.record(parts[2], parts[3], body)
        return self.answer(404, {"errorMessage": "no such path " + path})

    def outcome(self, kind, body):
        return {"kind": kind, "body": body.decode("utf-8", "replace"),
                "error_type": self.headers.get("Lambda-Runtime-Function-Error-Type"),
                "headers": {k.lower(): v for k, v in self.headers.items()}}

    def queue_invocations(self, doc):
        ids = []
        with changed:
            for _ in range(int(doc.get("count", 1))):
                inv = {"id": new_id(), "payload": doc.get("payload", "{}"),
                       "timeout_ms": int(doc.get("timeout_ms", 3000)),
                       "client_context": doc.get("client_context"),
                       "cognito_identity": doc.get("cognito_identity")}
                queue.append(inv)
                ids.append(inv["id"])
            changed.notify_all()
        return self.answer(200, {"ids": ids})

    def hand_out_next(self):
        with changed:
            next_calls.append(time.time())
            while not queue:
                changed.wait(0.1)
                if self.peer_gone():  # a runtime that died while polling gets nothing
                    self.close_connection = True
                    return None
            inv = queue.pop(0)
            inv["handed_out"] = time.time()
            in_flight[inv["id"]] = inv
        headers = {
            "Lambda-Runtime-Aws-Request-Id": inv["id"],
            "Lambda-Runtime-Deadline-Ms": str(int(inv["handed_out"] * 1000) + inv["timeout_ms"]),
            "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
            "Lambda-Runtime-Trace-Id": "Root=1-%08x-%s;Parent=%016x;Sampled=0" % (
                int(inv["handed_out"]), inv["id"].split("-")[1].rjust(24, "0"), state["counter"]),
        }
        if inv["client_context"] is not None:
            headers["Lambda-Runtime-Client-Context"] = inv["client_context"]
        if inv["cognito_identity"] is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = inv["cognito_identity"]
        return self.answer(200, headers=headers, body=inv["payload"].encode())

    def peer_gone(self):
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def record(self, inv_id, kind, body):
        with changed:
            inv = in_flight.get(inv_id)
            if inv is None:
                rejected.append({"id": inv_id, "kind": kind, "why": "InvalidRequestID"})
                refusal = (400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
            elif kind == "response" and len(body) > state["max_payload"]:
                rejected.append({"id": inv_id, "kind": kind, "why": "RequestEntityTooLarge"})
                refusal = (413, {"errorMessage": "Exceeded maximum allowed payload size (%d bytes)."
                                 % state["max_payload"], "errorType": "RequestEntityTooLarge"})
            else:
                refusal = None
                del in_flight[inv_id]
                result = self.outcome(kind, body)
                result["id"] = inv_id
                result["answered_ms"] = (time.time() - inv["handed_out"]) * 1000
                results[inv_id] = result
                changed.notify_all()
        if refusal:
            return self.answer(*refusal)
        return self.answer(202, {"status": "OK"})

    def wait_result(self, inv_id, wait_ms):
        limit = time.time() + wait_ms / 1000.0
        with changed:
            while inv_id not in results and time.time() < limit:
                changed.wait(max(0.0, limit - time.time()))
            result = results.get(inv_id)
        if result is None:
            return self.answer(404, {"errorMessage": "no outcome for " + inv_id})
        return self.answer(200, result)


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # stderr, never stdout


def main():
    options = argparse.ArgumentParser(description="a local Lambda Runtime API")
    options.add_argument("--max-payload", type=int, default=state["max_payload"])
    state["max_payload"] = options.parse_args().max_payload
    # The kernel ends this fixture with its parent (busted, a bench): nothing to poll for.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    with QuietServer(("127.0.0.1", 0), Handler) as server:
        server.daemon_threads = True
        print("PORT %d\nPID %d" % (server.server_address[1], os.getpid()), flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
