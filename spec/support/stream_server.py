#!/usr/bin/python3
"""Large and slow bodies on 127.0.0.1 for the streaming specs (engine_spec, s3 streaming specs).

Paths:
  GET  /bytes/<key>/<n>        200 with n bytes: byte i is PATTERN[i % len(PATTERN)], written in
                               64 KiB pieces; the bytes written so far are counted under key
  GET  /_sent/<key>            200 {"sent": n}: bytes /bytes/<key> has handed to the socket
  PUT|POST /sink/<key>         reads the body (Content-Length, chunked, or aws-chunked inside
                               either) and answers 200 {"length":, "sha256":, "headers": {...},
                               "expect": bool}; with Expect: 100-continue the 100 is sent first
  PUT|POST /refuse             with Expect: 100-continue answers 403 at once, without the 100 and
                               without reading the body; counts the body bytes it did get
  GET  /_refused               200 {"read": n}: body bytes /refuse saw
Prints "PORT <n>" then "PID <pid>"; exits when its parent dies."""
import hashlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_server import serve  # noqa: E402  (the announce-and-serve both fixtures share)

PATTERN = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"  # 61 bytes: a prime length
PIECE = 64 * 1024

sent = {}
refused = {"read": 0}
lock = threading.Lock()


def pattern_bytes(offset, n):
    start = offset % len(PATTERN)
    reps = (start + n) // len(PATTERN) + 1
    return (PATTERN * reps)[start:start + n]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_expect_100(self):
        if self.path.startswith("/refuse"):
            return True  # answered in do_PUT without the 100
        return super().handle_expect_100()

    def read_body(self, digest):
        total = 0
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return total
                left = size
                while left:
                    data = self.rfile.read(min(left, PIECE))
                    digest.update(data)
                    left -= len(data)
                total += size
                self.rfile.readline()
        left = int(self.headers.get("Content-Length") or 0)
        while left:
            data = self.rfile.read(min(left, PIECE))
            if not data:
                break
            digest.update(data)
            left -= len(data)
            total += len(data)
        return total

    def do_GET(self):
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if parts[:1] == ["bytes"]:
            key, n = parts[1], int(parts[2])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            offset = 0
            while offset < n:
                piece = pattern_bytes(offset, min(PIECE, n - offset))
                self.wfile.write(piece)
                offset += len(piece)
                with lock:
                    sent[key] = offset
            return
        if parts[:1] == ["_sent"]:
            with lock:
                return self.reply(200, {"sent": sent.get(parts[1], 0)})
        if parts[:1] == ["_refused"]:
            return self.reply(200, refused)
        return self.reply(404, {"message": self.path})

    def do_PUT(self):
        if self.path.startswith("/refuse"):
            self.close_connection = True
            self.reply(403, {"message": "refused before the body"})
            self.connection.settimeout(0.5)
            try:
                while True:
                    data = self.connection.recv(PIECE)
                    if not data:
                        break
                    refused["read"] += len(data)
            except OSError:
                pass
            return
        digest = hashlib.sha256()
        length = self.read_body(digest)
        self.reply(200, {"length": length, "sha256": digest.hexdigest(),
                         "headers": {k.lower(): v for k, v in self.headers.items()},
                         "expect": "100-continue" in self.headers.get("Expect", "").lower()})

    do_POST = do_PUT


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that aborts mid-body (the abort specs) is expected


def main():
    serve(QuietServer(("127.0.0.1", 0), Handler))


if __name__ == "__main__":
    sys.exit(main())
