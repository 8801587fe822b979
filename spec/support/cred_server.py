#!/usr/bin/python3
"""Credential endpoints for the specs, on 127.0.0.1: IMDSv2, container credentials and STS.

Run with Debian's /usr/bin/python3 (botocore verifies the SigV4 signature of AssumeRole).
Prints "PORT <n>" then "PID <pid>" on stdout and nothing else there (the reader may stop
reading); exits on SIGTERM or when its parent dies.

Paths
  PUT  /latest/api/token                          IMDSv2 session token (needs the TTL header)
  GET  /latest/meta-data/iam/security-credentials/[role]   401 without a valid token
  GET  /container/<anything>                      container credentials; when config
                                                  container_token is set, Authorization must equal it
  POST /                                          STS: AssumeRole (signature verified against
                                                  config sts_keys) and AssumeRoleWithWebIdentity
  GET  /_control/stats                            counters and last-seen values, JSON
  POST /_control/config                           JSON merged into the config
  POST /_control/reset                            counters and config back to the start

Config (JSON keys)
  expires_in        seconds from now for every Expiration handed out (default 3600)
  delay_ms          sleep before answering credential requests (single-flight specs)
  role              IMDS role name (default "fixture-role")
  imds_v1           true: the token PUT answers 403 and GETs need no token
  imds_code         the Code field of the IMDS credentials document (default "Success")
  container_token   expected Authorization header value, or null for none
  sts_keys          {access key id: secret} the AssumeRole signature is checked against
  sts_region        when set, the signing region AssumeRole must use
  sts_error         {"code", "message", "status"}: every STS call answers this ErrorResponse
  web_identity_token  when set, AssumeRoleWithWebIdentity needs exactly this token (else
                    InvalidIdentityToken, whose message quotes the token it got: the specs
                    check that the client scrubs it)
  status_override   {"path prefix": status}: answer that status with an empty body
"""
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_CONFIG = {
    "expires_in": 3600,
    "delay_ms": 0,
    "role": "fixture-role",
    "imds_v1": False,
    "imds_code": "Success",
    "container_token": None,
    "sts_keys": {},
    "sts_region": None,
    "sts_error": None,
    "web_identity_token": None,
    "status_override": {},
}

lock = threading.Lock()
config = json.loads(json.dumps(DEFAULT_CONFIG))
stats = {}
imds_tokens = set()
serial = [0]


def reset():
    global config
    with lock:
        config = json.loads(json.dumps(DEFAULT_CONFIG))
        stats.clear()
        imds_tokens.clear()


def count(name, **last):
    with lock:
        stats[name] = stats.get(name, 0) + 1
        for k, v in last.items():
            stats["last_" + k] = v


def next_serial():
    with lock:
        serial[0] += 1
        return serial[0]


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def issued(kind):
    """Distinct temporary credentials for each call."""
    n = next_serial()
    return {
        "AccessKeyId": "ASIA%s%06d" % (kind.upper()[:6], n),
        "SecretAccessKey": "%s-secret-%06d" % (kind, n),
        "Token": "%s-token-%06d" % (kind, n),
        "Expiration": iso(time.time() + config["expires_in"]),
    }


def verify_sigv4(method, path, headers, body):
    """Returns None when the Authorization header is a valid SigV4 signature, else a reason."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    auth = headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "missing or non-SigV4 Authorization header"
    fields = {}
    for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = part.strip().partition("=")
        fields[k] = v
    try:
        akid, date, region, service, term = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        got = fields["Signature"]
    except (KeyError, ValueError):
        return "malformed Authorization header"
    secret = config["sts_keys"].get(akid)
    if secret is None:
        return "unknown access key " + akid
    if config["sts_region"] and region != config["sts_region"]:
        return "signed for region %s, expected %s" % (region, config["sts_region"])
    amz_date = headers.get("X-Amz-Date", "")
    if not amz_date.startswith(date) or service != "sts" or term != "aws4_request":
        return "credential scope does not match"
    wanted = {}
    for name in signed:
        value = headers.get(name)
        if value is None:
            return "signed header %s is missing" % name
        wanted[name] = value
    token = headers.get("X-Amz-Security-Token")
    req = AWSRequest(method=method, url="http://%s%s" % (headers.get("Host"), path), data=body,
                     headers=wanted)
    req.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(akid, secret, token), service, region)
    canonical = signer.canonical_request(req)
    expected = signer.signature(signer.string_to_sign(req, canonical), req)
    if expected != got:
        return "signature mismatch"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per response and no Nagle: otherwise delayed ACKs add 40 ms to every exchange.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # stdout belongs to the PORT line; stay quiet
        pass

    def reply(self, status, body=b"", ctype="application/json"):
        if isinstance(body, str):
            body = body.encode()
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def pause(self):
        if config["delay_ms"]:
            time.sleep(config["delay_ms"] / 1000.0)

    def overridden(self):
        for prefix, status in config["status_override"].items():
            if self.path.startswith(prefix):
                self.reply(int(status), b"")
                return True
        return False

    # ---- IMDS
    def imds_token_ok(self):
        if config["imds_v1"]:
            return True
        return self.headers.get("X-aws-ec2-metadata-token") in imds_tokens

    def do_PUT(self):
        self.body()
        if self.path != "/latest/api/token":
            return self.reply(404, b"")
        count("imds_token")
        if self.overridden():
            return
        if config["imds_v1"]:
            return self.reply(403, b"")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if not ttl or not ttl.isdigit():
            return self.reply(400, b"missing X-aws-ec2-metadata-token-ttl-seconds")
        token = "imds-session-%06d" % next_serial()
        with lock:
            imds_tokens.add(token)
        self.reply(200, token, "text/plain")

    def do_GET(self):
        if self.path == "/_control/stats":
            with lock:
                return self.reply(200, dict(stats))
        prefix = "/latest/meta-data/iam/security-credentials/"
        if self.path.startswith(prefix):
            role = self.path[len(prefix):]
            count("imds_creds" if role else "imds_list", imds_token=self.headers.get("X-aws-ec2-metadata-token"))
            if self.overridden():
                return
            if not self.imds_token_ok():
                return self.reply(401, b"")
            if not role:
                return self.reply(200, config["role"] + "\n", "text/plain")
            if role != config["role"]:
                return self.reply(404, b"")
            self.pause()
            doc = issued("imds")
            doc.update({"Code": config["imds_code"], "Type": "AWS-HMAC", "LastUpdated": iso(time.time())})
            if config["imds_code"] != "Success":
                doc["Message"] = "the fixture was told to fail"
            return self.reply(200, doc)
        if self.path.startswith("/container/"):
            count("container", authorization=self.headers.get("Authorization"), path=self.path)
            if self.overridden():
                return
            want = config["container_token"]
            if want is not None and self.headers.get("Authorization") != want:
                return self.reply(403, {"code": "AccessDenied", "message": "bad authorization token"})
            self.pause()
            doc = issued("container")
            doc["RoleArn"] = "arn:aws:iam::123456789012:role/fixture"
            return self.reply(200, doc)
        self.reply(404, b"")

    # ---- STS and control
    def sts_error(self, status, code, message):
        body = ("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
                "<Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
                "<RequestId>fixture-request</RequestId></ErrorResponse>") % (code, message)
        self.reply(status, body, "text/xml")

    def do_POST(self):
        raw = self.body()
        if self.path == "/_control/config":
            with lock:
                config.update(json.loads(raw or b"{}"))
            return self.reply(200, {"ok": True})
        if self.path == "/_control/reset":
            reset()
            return self.reply(200, {"ok": True})
        if self.path != "/":
            return self.reply(404, b"")
        form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode(), keep_blank_values=True).items()}
        action = form.get("Action")
        if action == "AssumeRole":
            count("sts_assume_role", role_arn=form.get("RoleArn"), session_name=form.get("RoleSessionName"),
                  external_id=form.get("ExternalId"), access_key=self.signing_key())
        elif action == "AssumeRoleWithWebIdentity":
            count("sts_web_identity", role_arn=form.get("RoleArn"), session_name=form.get("RoleSessionName"),
                  web_identity_token=form.get("WebIdentityToken"),
                  authorization=self.headers.get("Authorization"))
        else:
            return self.sts_error(400, "InvalidAction", "unknown action %s" % action)
        if form.get("Version") != "2011-06-15":
            return self.sts_error(400, "InvalidParameterValue", "bad Version")
        err = config["sts_error"]
        if err:
            return self.sts_error(int(err.get("status", 403)), err["code"], err["message"])
        if action == "AssumeRole":
            problem = verify_sigv4("POST", self.path, self.headers, raw)
            if problem:
                count("sts_bad_signature", problem=problem)
                return self.sts_error(403, "SignatureDoesNotMatch", "The request signature we calculated "
                                      "does not match the signature you provided (%s)" % problem)
        else:
            token = form.get("WebIdentityToken", "")
            want = config["web_identity_token"]
            if not token or (want is not None and token != want):
                return self.sts_error(400, "InvalidIdentityToken", "Token %s is not valid" % token)
        self.pause()
        c = issued("sts")
        with lock:  # role chaining: the next AssumeRole may be signed with these
            config["sts_keys"][c["AccessKeyId"]] = c["SecretAccessKey"]
        body = ("<{a}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{a}Result>"
                "<Credentials><AccessKeyId>{id}</AccessKeyId><SecretAccessKey>{sk}</SecretAccessKey>"
                "<SessionToken>{tok}</SessionToken><Expiration>{exp}</Expiration></Credentials>"
                "<AssumedRoleUser><Arn>{arn}</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser>"
                "</{a}Result><ResponseMetadata><RequestId>fixture</RequestId></ResponseMetadata>"
                "</{a}Response>").format(a=action, id=c["AccessKeyId"], sk=c["SecretAccessKey"],
                                         tok=c["Token"], exp=c["Expiration"], arn=form.get("RoleArn"))
        self.reply(200, body, "text/xml")

    def signing_key(self):
        auth = self.headers.get("Authorization", "")
        i = auth.find("Credential=")
        return auth[i + 11:].split("/")[0] if i >= 0 else None


def watch_parent(ppid):
    while True:
        time.sleep(0.5)
        if os.getppid() != ppid:
            os._exit(0)


def main():
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    sys.stdout.write("PORT %d\nPID %d\n" % (server.server_address[1], os.getpid()))
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
