#!/usr/bin/python3
"""The services that sign or address requests differently, on 127.0.0.1 (the contract of
cred_server.py: "PORT <n>", "PID <pid>"; it listens on a second port too, see /_control/ports).

  SimpleDB (form POST, Action=...)     Signature Version 2 checked with botocore's SigV2Auth
                                       against KEYS; ListDomains answers DOMAINS
  CodeCatalyst POST /v1/spaces         Authorization must be "Bearer " + BEARER_TOKEN (or the
                                       token set with /_control/bearer?token=)
  Timestream (X-Amz-Target)            on the first port only DescribeEndpoints, which answers
                                       the second port as its Address; any other operation there
                                       is a 421 InvalidEndpointException. On the second port:
                                       Query and the other operations (JSON replies).
  GET /_control/ports                  {"discovery": first, "discovered": second}
  GET /_control/log                    every call: {"port", "target", "api_version", "host"}
  GET /_control/reset                  clears the log and the settings below
  GET /_control/cache?minutes=N        the CachePeriodInMinutes DescribeEndpoints answers
  GET /_control/reject_next            the second port answers the next call 421
"""
import json
import os
import sys
import threading
import urllib.parse
from http.server import ThreadingHTTPServer

from botocore.auth import SigV2Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cred_server  # noqa: E402  (Handler.reply/body, watch_parent)

KEYS = {"AKIDV2": "v2-secret/key+000"}
BEARER_TOKEN = "codecatalyst-bearer-0001"
DOMAINS = ["alpha", "beta"]
state = {"log": [], "minutes": 10, "reject_next": False, "bearer": BEARER_TOKEN, "ports": {}}
lock = threading.Lock()


def verify_sigv2(method, host, path, form):
    """None when form carries a valid Signature Version 2, else the reason."""
    for name in ("AWSAccessKeyId", "SignatureVersion", "SignatureMethod", "Timestamp", "Signature"):
        if name not in form:
            return "missing " + name
    if form["SignatureVersion"] != "2" or form["SignatureMethod"] != "HmacSHA256":
        return "not HmacSHA256 version 2"
    secret = KEYS.get(form["AWSAccessKeyId"])
    if secret is None:
        return "unknown access key"
    params = dict(form)
    got = params.pop("Signature")
    request = AWSRequest(method=method, url="http://%s%s" % (host, path))
    token = params.get("SecurityToken")
    _, expected = SigV2Auth(Credentials(form["AWSAccessKeyId"], secret, token)).calc_signature(request, params)
    return None if expected == got else "signature mismatch"


class Handler(cred_server.Handler):
    def record(self, target):
        with lock:
            state["log"].append({"port": self.server.server_address[1], "target": target,
                                 "api_version": self.headers.get("x-amz-api-version"),
                                 "host": self.headers.get("Host")})

    def control(self, url):
        q = dict(urllib.parse.parse_qsl(url.query))
        name = url.path[len("/_control/"):]
        if name == "ports":
            return self.reply(200, state["ports"])
        if name == "log":
            return self.reply(200, state["log"])
        if name == "reset":
            state.update(log=[], minutes=10, reject_next=False, bearer=BEARER_TOKEN)
        elif name == "cache":
            state["minutes"] = int(q["minutes"])
        elif name == "reject_next":
            state["reject_next"] = True
        elif name == "bearer":
            state["bearer"] = q["token"]
        return self.reply(200, {"ok": True})

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path.startswith("/_control/"):
            return self.control(url)
        return self.reply(404, {"message": "no such path"})

    def list_spaces(self):
        self.record("ListSpaces")
        if self.headers.get("Authorization") != "Bearer " + state["bearer"]:
            return self.reply(401, {"message": "bearer token missing or wrong"})
        return self.reply(200, {"items": [{"name": "space-one", "regionName": "us-west-2"}]})

    def do_POST(self):
        body = self.body()
        if self.path == "/v1/spaces":
            return self.list_spaces()
        target = self.headers.get("X-Amz-Target", "")
        if target.startswith("Timestream_20181101."):
            return self.timestream(target.split(".", 1)[1])
        form = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        self.record(form.get("Action"))
        problem = verify_sigv2("POST", self.headers.get("Host"), urllib.parse.urlparse(self.path).path, form)
        if problem:
            return self.reply(403, "<Response><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>%s"
                              "</Message></Error></Errors><RequestID>r1</RequestID></Response>" % problem,
                              ctype="text/xml")
        names = "".join("<DomainName>%s</DomainName>" % d for d in DOMAINS)
        return self.reply(200, '<ListDomainsResponse xmlns="http://sdb.amazonaws.com/doc/2009-04-15/">'
                          "<ListDomainsResult>%s</ListDomainsResult><ResponseMetadata><RequestId>r1</RequestId>"
                          "</ResponseMetadata></ListDomainsResponse>" % names, ctype="text/xml")

    def timestream(self, op):
        self.record(op)
        port = self.server.server_address[1]
        json_type = "application/x-amz-json-1.0"
        discovery = port == state["ports"]["discovery"]
        if op == "DescribeEndpoints":
            address = "127.0.0.1:%d" % state["ports"]["discovered"]
            return self.reply(200, {"Endpoints": [{"Address": address, "CachePeriodInMinutes": state["minutes"]}]},
                              ctype=json_type)
        rejected = state["reject_next"] and not discovery
        if rejected:
            state["reject_next"] = False
        if discovery or rejected:
            return self.reply(421, {"__type": "com.amazonaws.timestream#InvalidEndpointException",
                                    "message": "send this to the discovered endpoint"}, ctype=json_type)
        return self.reply(200, {"QueryId": "q-%d" % len(state["log"]), "Rows": [], "ColumnInfo": []},
                          ctype=json_type)


def main():
    first = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    second = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["ports"] = {"discovery": first.server_address[1], "discovered": second.server_address[1]}
    for server in (first, second):
        server.daemon_threads = True
    threading.Thread(target=cred_server.watch_parent, args=(os.getppid(),), daemon=True).start()
    threading.Thread(target=second.serve_forever, daemon=True).start()
    sys.stdout.write("PORT %d\nPID %d\n" % (first.server_address[1], os.getpid()))
    sys.stdout.flush()
    first.serve_forever()


if __name__ == "__main__":
    main()
