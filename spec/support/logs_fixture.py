#!/usr/bin/python3
"""A CloudWatch-Logs-style GetLogEvents on 127.0.0.1 for the paging specs: one log stream whose
forward token comes back unchanged once the stream is read to its end, as the real service does.

    /usr/bin/python3 spec/support/logs_fixture.py [--events N] [--group G] [--stream S]

Prints "PORT <n>" then "PID <pid>" on stdout and nothing else there; exits on SIGTERM or when its
parent dies. No signature checking (the paging specs test paging, not signing).

Paths
  POST /            JSON 1.1, X-Amz-Target Logs_20140328.GetLogEvents: logGroupName, logStreamName,
                    nextToken (f/<index>), limit (1..10000, default 10000); an unknown group or
                    stream is ResourceNotFoundException
  GET  /_calls      {"GetLogEvents": how many were answered}
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
calls = {"GetLogEvents": 0}


def token(kind, index):
    return "%s/%020d" % (kind, index)


def get_log_events(events, group, stream, body):
    if body.get("logGroupName") != group or body.get("logStreamName") != stream:
        return 400, {"__type": "ResourceNotFoundException", "message": "The specified log stream does not exist."}
    limit = body.get("limit", 10000)
    if not isinstance(limit, int) or not 1 <= limit <= 10000:
        return 400, {"__type": "InvalidParameterException", "message": "limit must be within 1..10000"}
    start = 0
    given = body.get("nextToken")
    if given is not None:
        try:
            kind, index = given.split("/", 1)
            start = int(index)
            if kind != "f" or not 0 <= start <= len(events):
                raise ValueError(given)
        except ValueError:
            return 400, {"__type": "InvalidParameterException", "message": "The specified nextToken is invalid."}
    page = events[start:start + limit]
    end = start + len(page)
    return 200, {
        "events": page,
        # At the end of the stream the forward token is the one that was sent: callers stop on a repeat.
        "nextForwardToken": token("f", end),
        "nextBackwardToken": token("b", start),
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # stdout belongs to the PORT line
        pass

    def reply(self, status, value, content_type="application/x-amz-json-1.1"):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "logs-fixture-%d" % calls["GetLogEvents"])
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_calls":
            with lock:
                return self.reply(200, dict(calls), "application/json")
        self.reply(404, {"__type": "UnknownOperationException", "message": "no such path"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b"{}"
        target = self.headers.get("X-Amz-Target", "")
        if target != "Logs_20140328.GetLogEvents":
            return self.reply(400, {"__type": "UnknownOperationException", "message": "only GetLogEvents: " + target})
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self.reply(400, {"__type": "SerializationException", "message": "the body is not JSON"})
        server = self.server
        with lock:
            calls["GetLogEvents"] += 1
        status, value = get_log_events(server.events, server.group, server.stream, body)
        self.reply(status, value)


def watch_parent(ppid):
    while True:
        if os.getppid() != ppid:
            os._exit(0)
        time.sleep(0.25)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=23)
    ap.add_argument("--group", default="/fixture/group")
    ap.add_argument("--stream", default="stream-1")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    base = 1700000000000
    server.events = [{"timestamp": base + i * 1000, "message": "event %d" % (i + 1), "ingestionTime": base + i * 1000 + 5}
                     for i in range(args.events)]
    server.group, server.stream = args.group, args.stream
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    sys.stdout.write("PORT %d\nPID %d\n" % (server.server_address[1], os.getpid()))
    sys.stdout.flush()
    server.serve_forever(poll_interval=0.25)


if __name__ == "__main__":
    main()
