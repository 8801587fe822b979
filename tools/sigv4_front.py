#!/usr/bin/python3
"""A SigV4-checking reverse proxy in front of local AWS services (run with Debian's /usr/bin/python3).

    /usr/bin/python3 tools/sigv4_front.py --credentials FILE --ports-file FILE
        --route NAME,SERVICE,BACKEND_PORT [--route ...]
        [--cert PEM --key PEM] [--untrusted-cert PEM --untrusted-key PEM --untrusted-route NAME]
        [--parent PID] [--max-skew SECONDS]

For every route it listens on 127.0.0.1 with plain HTTP and (given --cert/--key) HTTPS, each on a
free port, and writes "<route>_http <port>" / "<route>_https <port>" lines (plus "untrusted_https
<port>") to --ports-file once every listener is bound. The backend is http://127.0.0.1:BACKEND_PORT.

Every request's SigV4 signature (Authorization header, or presigned query parameters) is computed
again with botocore's signer from the request exactly as received (method, raw path, query, the
headers named in SignedHeaders, the body or x-amz-content-sha256, the request's own X-Amz-Date) and
the secret that --credentials (lines "ACCESS_KEY_ID SECRET") holds for the access key id. A request
whose signature differs, or that is unsigned, unparsable, from an unknown key, or too far from the
clock, gets the error the real service would give, in that service's protocol (S3 REST-XML,
DynamoDB JSON 1.0, EC2 query XML). Otherwise it is forwarded unchanged and the answer streamed back.
One line per request goes to stderr: listener, method, path, status, verdict, milliseconds; for a
mismatch the canonical request and string to sign follow, indented.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

MAX_BODY = 256 << 20
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
              "te", "trailer", "trailers", "transfer-encoding", "upgrade"}
AMZ_DATE = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")

LOG_LOCK = threading.Lock()


def log(text):
    with LOG_LOCK:
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
        sys.stderr.flush()


# --------------------------------------------------------------------------------------------------
# Signature verification


class Refusal(Exception):
    """A request the front will not forward. kind selects the service's error code."""

    def __init__(self, kind, message, details=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.details = details or {}


class ExactHeaders:
    """Signs exactly the headers it is given (the request's SignedHeaders), nothing added or dropped."""

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            header_map[name.lower()] = value
        return header_map


class GenericSigner(ExactHeaders, SigV4Auth):
    pass


class S3Signer(ExactHeaders, S3SigV4Auth):
    pass


class S3PresignedSigner(S3Signer):
    def payload(self, request):
        return "UNSIGNED-PAYLOAD"


def parse_amz_date(value):
    try:
        return datetime.strptime(value, AMZ_DATE).replace(tzinfo=timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


def split_query(raw_query):
    """Decoded (name, value) pairs, in order, exactly as a server reads them (no '+' to space)."""
    pairs = []
    if raw_query:
        for part in raw_query.split("&"):
            if part == "":
                continue
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def parse_authorization(value):
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        raise Refusal("malformed", "Unsupported authorization type '%s': only AWS4-HMAC-SHA256 is accepted"
                      % algorithm[:40])
    fields = {}
    for part in rest.split(","):
        name, eq, val = part.strip().partition("=")
        if not eq:
            raise Refusal("malformed", "Authorization header requires the form Name=Value, got '%s'" % part.strip())
        fields[name] = val
    for required in ("Credential", "SignedHeaders", "Signature"):
        if required not in fields:
            raise Refusal("malformed", "Authorization header requires '%s' parameter" % required)
    return fields["Credential"], fields["SignedHeaders"], fields["Signature"]


def parse_credential(credential):
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise Refusal("malformed", "Credential should have the form "
                      "<AccessKeyId>/<YYYYMMDD>/<region>/<service>/aws4_request, got '%s'" % credential)
    return parts[0], parts[1], parts[2], parts[3]


class Verifier:
    def __init__(self, keys, max_skew):
        self.keys = keys
        self.max_skew = max_skew

    def verify_post_policy(self, path, content_type, body, now):
        """A browser form upload (POST Object): the policy's signature, expiry and conditions."""
        fields = form_fields(content_type, body)

        def field(name):
            return fields.get(name.lower(), (name, b""))[1].decode("utf-8", "replace")

        if field("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            raise Refusal("malformed", "POST requires X-Amz-Algorithm AWS4-HMAC-SHA256")
        key_id, scope_date, region, scope_service = parse_credential(field("X-Amz-Credential"))
        secret = self.keys.get(key_id)
        if secret is None:
            raise Refusal("unknown-key", "The AWS Access Key Id you provided does not exist in our records.",
                          {"AWSAccessKeyId": key_id})
        policy_b64 = field("Policy")
        key = ("AWS4" + secret).encode()
        for part in (scope_date, region, scope_service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, field("X-Amz-Signature").lower()):
            raise Refusal("mismatch", "The request signature we calculated does not match the signature you provided.")
        policy = json.loads(base64.b64decode(policy_b64))
        expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        if now > expiration.timestamp():
            raise policy_refusal("Policy expired.")
        check_policy_conditions(policy, fields, unquote(path.lstrip("/").split("/")[0]))
        return "ok post-policy " + region

    def verify(self, service, scheme, method, raw_target, headers, body):
        """headers: list of (name, value) as received. Returns a short verdict detail for the log;
        raises Refusal when the request must not be forwarded."""
        path, _, raw_query = raw_target.partition("?")
        query = split_query(raw_query)
        qnames = {n for n, _ in query}
        authz = [v for n, v in headers if n.lower() == "authorization"]
        presigned = "X-Amz-Algorithm" in qnames
        if authz and presigned:
            raise Refusal("malformed", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                          "Signature query string parameter or the Authorization header should be specified")
        content_type = next((v for n, v in headers if n.lower() == "content-type"), "")
        if (not authz and not presigned and service == "s3" and method == "POST"
                and content_type.lower().startswith("multipart/form-data")):
            return self.verify_post_policy(path, content_type, body, now=time.time())
        if not authz and not presigned:
            if service == "s3" and method == "OPTIONS":
                return "unsigned-preflight"
            raise Refusal("missing", "Request is missing Authentication Token")
        if len(authz) > 1:
            raise Refusal("malformed", "More than one Authorization header")
        now = time.time()
        qdict = dict(query)
        if presigned:
            if qdict.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
                raise Refusal("malformed", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
            for required in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"):
                if required not in qdict:
                    raise Refusal("malformed", "Query-string authentication requires the %s parameter" % required)
            credential, signed_headers, provided = (qdict["X-Amz-Credential"], qdict["X-Amz-SignedHeaders"],
                                                    qdict["X-Amz-Signature"])
            amz_date = qdict["X-Amz-Date"]
            query = [(n, v) for n, v in query if n != "X-Amz-Signature"]
        else:
            credential, signed_headers, provided = parse_authorization(authz[0])
            amz_date = next((v for n, v in headers if n.lower() == "x-amz-date"), None)
            if amz_date is None:
                raise Refusal("malformed", "AWS authentication requires a valid X-Amz-Date header "
                              "(a Date header is not accepted by this front)")
        key_id, scope_date, region, scope_service = parse_credential(credential)
        stamp = parse_amz_date(amz_date)
        if stamp is None:
            raise Refusal("malformed", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", "
                          "got '%s'" % amz_date)
        if scope_date != amz_date[:8]:
            raise Refusal("malformed", "Date in Credential scope (%s) does not match the date of X-Amz-Date (%s)"
                          % (scope_date, amz_date[:8]))
        if scope_service != service:
            raise Refusal("malformed", "Credential should be scoped to correct service: '%s', got '%s'"
                          % (service, scope_service))
        secret = self.keys.get(key_id)
        if secret is None:
            raise Refusal("unknown-key", "The AWS Access Key Id you provided does not exist in our records.",
                          {"AWSAccessKeyId": key_id})
        if presigned:
            try:
                expires = int(qdict.get("X-Amz-Expires", "900"))
            except ValueError:
                raise Refusal("malformed", "X-Amz-Expires should be a number")
            if not 0 <= expires <= 604800:
                raise Refusal("malformed", "X-Amz-Expires must be between 0 and 604800 seconds")
            if now > stamp + expires:
                raise Refusal("expired", "Request has expired", {"X-Amz-Expires": str(expires),
                                                                 "Expires": amz_date})
            if stamp > now + self.max_skew:
                raise Refusal("skew", "Request is not valid yet")
        elif abs(now - stamp) > self.max_skew:
            server_time = time.strftime(AMZ_DATE, time.gmtime(now))
            raise Refusal("skew", "Signature expired: %s is now earlier than %s (%s - %d min.)"
                          % (amz_date, time.strftime(AMZ_DATE, time.gmtime(now - self.max_skew)), server_time,
                             self.max_skew // 60) if stamp < now else
                          "Signature not yet current: %s is still later than %s (%s + %d min.)"
                          % (amz_date, time.strftime(AMZ_DATE, time.gmtime(now + self.max_skew)), server_time,
                             self.max_skew // 60),
                          {"RequestTime": amz_date, "ServerTime": server_time,
                           "MaxAllowedSkewMilliseconds": str(self.max_skew * 1000)})

        names = [h.strip().lower() for h in signed_headers.split(";")]
        if "host" not in names:
            raise Refusal("mismatch", "'Host' must be a signed header", {"SignedHeaders": signed_headers})
        received = {}
        for n, v in headers:
            received.setdefault(n.lower(), []).append(v)
        signed = HTTPHeaders()
        for name in names:
            if name not in received:
                raise Refusal("mismatch", "The request signs header '%s' but does not carry it" % name,
                              {"SignedHeaders": signed_headers})
            for v in received[name]:
                signed[name] = recover_utf8(v)
        content_sha = received.get("x-amz-content-sha256", [None])[0]
        if service == "s3" and not presigned:
            if content_sha is None:
                raise Refusal("bad-request", "Missing required header for this request: x-amz-content-sha256")
            if "x-amz-content-sha256" not in names:
                raise Refusal("mismatch", "x-amz-content-sha256 must be a signed header")
        host = received.get("host", [""])[0]
        req = AWSRequest(method=method, url="%s://%s%s" % (scheme, host, path or "/"), data=body or b"",
                         params=query)
        req.headers = signed
        req.context["timestamp"] = amz_date
        creds = Credentials(key_id, secret)
        if service == "s3":
            signer = (S3PresignedSigner if presigned else S3Signer)(creds, service, region)
        else:
            signer = GenericSigner(creds, service, region)
        try:
            canonical = signer.canonical_request(req)
            string_to_sign = signer.string_to_sign(req, canonical)
            expected = signer.signature(string_to_sign, req)
        except (UnicodeError, ValueError) as exc:
            raise Refusal("mismatch", "The request cannot be canonicalized: %s" % exc)
        computed_headers = signer.signed_headers(signer.headers_to_sign(req))
        problem = None
        if computed_headers != signed_headers:
            problem = "SignedHeaders '%s' is not in canonical form (expected '%s')" % (signed_headers,
                                                                                     computed_headers)
        elif not hmac.compare_digest(expected.encode(), provided.strip().lower().encode()):
            problem = ("The request signature we calculated does not match the signature you provided. "
                       "Check your key and signing method.")
        if problem:
            raise Refusal("mismatch", problem, {
                "AWSAccessKeyId": key_id, "StringToSign": string_to_sign, "SignatureProvided": provided,
                "CanonicalRequest": canonical, "Expected": expected})
        if service == "s3" and content_sha and HEX64.match(content_sha):
            actual = hashlib.sha256(body).hexdigest()
            if actual != content_sha.lower():
                raise Refusal("payload-hash", "The provided 'x-amz-content-sha256' header does not match what "
                              "was computed.", {"ClientComputedContentSHA256": content_sha,
                                                "S3ComputedContentSHA256": actual})
        return "ok" + (" presigned" if presigned else "") + " " + region


def form_fields(content_type, body):
    """The fields of a multipart/form-data body: {lower-case name: (name, value bytes)}."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise Refusal("bad-request", "multipart/form-data without a boundary")
    fields = {}
    for part in body.split(b"--" + match.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, value = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        if name:
            text = name.group(1).decode("utf-8")
            fields[text.lower()] = (text, value[:-2] if value.endswith(b"\r\n") else value)
    return fields


def policy_refusal(message):
    return Refusal("expired" if "expired" in message else "mismatch", "Invalid according to Policy: " + message)


def check_policy_conditions(policy, fields, bucket):
    """S3's rules for a POST policy: every condition holds, every field is covered by one."""
    covered = {"x-amz-signature", "file", "policy"}
    values = {k: v.decode("utf-8", "replace") for k, (_, v) in fields.items() if k != "file"}
    values["bucket"] = bucket
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            (name, expected), = condition.items()
            op, name = "eq", name.lower()
        elif condition[0] == "content-length-range":
            size = len(fields.get("file", ("", b""))[1])
            if not condition[1] <= size <= condition[2]:
                raise policy_refusal("Policy Condition failed: content-length-range")
            continue
        else:
            op, name, expected = condition[0], condition[1].lstrip("$").lower(), condition[2]
        covered.add(name)
        got = values.get(name, "")
        if (op == "eq" and got != expected) or (op == "starts-with" and not got.startswith(expected)):
            raise policy_refusal("Policy Condition failed: [\"%s\", \"$%s\", \"%s\"]" % (op, name, expected))
    extra = [k for k in values if k not in covered and not k.startswith("x-ignore-")]
    if extra:
        raise policy_refusal("Extra input fields: %s" % ", ".join(sorted(extra)))


def recover_utf8(value):
    # http.server decodes header bytes as latin-1; the signer hashes UTF-8.
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


# --------------------------------------------------------------------------------------------------
# Error documents, per protocol

ERRORS = {
    # kind: {service: (status, code)}
    "missing": {"s3": (403, "AccessDenied"), "dynamodb": (400, "MissingAuthenticationTokenException"),
                "ec2": (401, "AuthFailure")},
    "malformed": {"s3": (400, "AuthorizationHeaderMalformed"), "dynamodb": (400, "IncompleteSignatureException"),
                  "ec2": (400, "IncompleteSignature")},
    "unknown-key": {"s3": (403, "InvalidAccessKeyId"), "dynamodb": (400, "UnrecognizedClientException"),
                    "ec2": (401, "AuthFailure")},
    "mismatch": {"s3": (403, "SignatureDoesNotMatch"), "dynamodb": (400, "InvalidSignatureException"),
                 "ec2": (403, "SignatureDoesNotMatch")},
    "skew": {"s3": (403, "RequestTimeTooSkewed"), "dynamodb": (400, "InvalidSignatureException"),
             "ec2": (400, "RequestExpired")},
    "expired": {"s3": (403, "AccessDenied"), "dynamodb": (400, "InvalidSignatureException"),
                "ec2": (400, "RequestExpired")},
    "payload-hash": {"s3": (400, "XAmzContentSHA256Mismatch"), "dynamodb": (400, "InvalidSignatureException"),
                     "ec2": (400, "SignatureDoesNotMatch")},
    "bad-request": {"s3": (400, "InvalidRequest"), "dynamodb": (400, "ValidationException"),
                    "ec2": (400, "InvalidParameterValue")},
    "too-large": {"s3": (400, "EntityTooLarge"), "dynamodb": (413, "RequestEntityTooLarge"),
                  "ec2": (413, "RequestEntityTooLarge")},
    "backend": {"s3": (502, "ServiceUnavailable"), "dynamodb": (502, "ServiceUnavailableException"),
                "ec2": (502, "Unavailable")},
}
MESSAGES = {
    ("s3", "missing"): "Access Denied",
    ("s3", "skew"): "The difference between the request time and the current time is too large.",
    ("ec2", "missing"): "AWS was not able to validate the provided access credentials",
    ("ec2", "unknown-key"): "AWS was not able to validate the provided access credentials",
    ("dynamodb", "unknown-key"): "The security token included in the request is invalid.",
    ("dynamodb", "mismatch"): "The request signature we calculated does not match the signature you provided. "
                              "Check your AWS Secret Access Key and signing method. "
                              "Consult the service documentation for details.",
}
S3_DETAIL_FIELDS = ("AWSAccessKeyId", "StringToSign", "SignatureProvided", "CanonicalRequest", "RequestTime",
                    "ServerTime", "MaxAllowedSkewMilliseconds", "X-Amz-Expires", "Expires",
                    "ClientComputedContentSHA256", "S3ComputedContentSHA256")


def error_document(service, kind, message, details, request_id):
    """(status, content-type, body bytes, extra headers)"""
    table = ERRORS[kind]
    status, code = table.get(service, table["s3"])
    message = MESSAGES.get((service, kind), message)
    if service == "dynamodb":
        body = json.dumps({"__type": "com.amazon.coral.service#" + code, "message": message})
        return status, "application/x-amz-json-1.0", body.encode(), [("x-amzn-RequestId", request_id)]
    if service == "ec2":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code>'
                '<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>'
                % (code, escape(message), request_id))
        return status, "text/xml;charset=UTF-8", body.encode(), [("x-amzn-RequestId", request_id)]
    extra = "".join("<%s>%s</%s>" % (k, escape(details[k]), k) for k in S3_DETAIL_FIELDS if k in details)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>%s'
            '<RequestId>%s</RequestId><HostId>%s</HostId></Error>'
            % (code, escape(message), extra, request_id, request_id.replace("-", "")))
    return status, "application/xml", body.encode(), [("x-amz-request-id", request_id),
                                                        ("x-amz-id-2", request_id.replace("-", ""))]


# --------------------------------------------------------------------------------------------------
# The proxy


class BodyTooLarge(Exception):
    pass


class FrontHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "local-aws-front"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 300  # an idle keep-alive connection is dropped after this

    def setup(self):
        super().setup()
        self.backend = None

    def finish(self):
        try:
            super().finish()
        finally:
            self.close_backend()

    def log_message(self, fmt, *args):
        pass

    def log_error(self, fmt, *args):
        log("%s %s %s" % (stamp(), self.server.name, fmt % args))

    def close_backend(self):
        if self.backend is not None:
            try:
                self.backend.close()
            except OSError:
                pass
            self.backend = None

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                total += size
                if total > MAX_BODY:
                    raise BodyTooLarge()
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
            return b"".join(chunks), True
        length = self.headers.get("Content-Length")
        if length is None:
            return b"", False
        n = int(length)
        if n > MAX_BODY:
            raise BodyTooLarge()
        return (self.rfile.read(n) if n else b""), True

    def refuse(self, refusal, request_id):
        service = self.server.route.service
        status, ctype, body, extra = error_document(service, refusal.kind, refusal.message, refusal.details,
                                                    request_id)
        self.responded = True
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        if self.command == "HEAD":
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        return status

    def handle_any(self):
        t0 = time.monotonic()
        route = self.server.route
        request_id = str(uuid.uuid4())
        verdict = "?"
        detail = ""
        status = 0
        self.responded = False
        try:
            try:
                body, had_length = self.read_body()
            except (ValueError, BodyTooLarge):
                self.close_connection = True
                verdict = "too-large"
                status = self.refuse(Refusal("too-large", "The request body is too large or badly framed"),
                                     request_id)
                return
            headers = list(self.headers.items())
            try:
                verdict = self.server.verifier.verify(route.service, self.server.scheme, self.command, self.path,
                                                      headers, body)
            except Refusal as refusal:
                verdict = refusal.kind + ": " + refusal.message
                d = refusal.details
                if "CanonicalRequest" in d:
                    detail = "\n    signature provided: %s\n    signature expected: %s" % (
                        d.get("SignatureProvided"), d.get("Expected"))
                    detail += "\n    canonical request (%r):\n      " % d["CanonicalRequest"]
                    detail += d["CanonicalRequest"].replace("\n", "\n      ")
                    detail += "\n    string to sign:\n      " + d["StringToSign"].replace("\n", "\n      ")
                status = self.refuse(refusal, request_id)
                return
            status = self.forward(headers, body, had_length)
        except (ConnectionError, TimeoutError, socket.timeout) as exc:
            self.close_connection = True
            verdict += " (client connection: %s)" % exc.__class__.__name__
        except Exception as exc:
            # Answer rather than drop the connection: a client may resend a request whose connection
            # broke, and the backend may have carried it out already.
            self.close_connection = True
            self.close_backend()
            verdict += " (front error: %r)" % exc
            if not self.responded:
                status = self.refuse(Refusal("backend", "local-aws front: internal error: %r" % exc), request_id)
        finally:
            ms = (time.monotonic() - t0) * 1000
            path = self.path if len(self.path) <= 200 else self.path[:200] + "..."
            log("%s %s %s %s %s %s %.1fms%s" % (stamp(), self.server.name, self.command, path, status or "-",
                                                verdict, ms, detail))

    def open_backend(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.route.port, timeout=600)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def send_upstream(self, headers, body, had_length):
        conn = self.backend
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            lname = name.lower()
            if lname in HOP_BY_HOP or lname in ("content-length", "expect"):
                continue  # the body goes whole, with its length
            conn.putheader(name, value)
        if had_length or body or self.command in ("POST", "PUT", "PATCH"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        return conn.getresponse()

    def forward(self, headers, body, had_length):
        resp = None
        for attempt in (1, 2):
            fresh = self.backend is None
            try:
                if fresh:
                    self.backend = self.open_backend()
                resp = self.send_upstream(headers, body, had_length)
                break
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine, OSError) as exc:
                self.close_backend()
                if fresh or attempt == 2:
                    # The backend is down or broke mid-request.
                    refusal = Refusal("backend", "local-aws front: backend %s (127.0.0.1:%d) failed: %r"
                                      % (self.server.route.name, self.server.route.port, exc))
                    self.close_connection = True
                    return self.refuse(refusal, str(uuid.uuid4()))
                # A kept-alive connection the backend had closed: retry once on a new one.
        status = resp.status
        self.responded = True
        self.send_response_only(status, resp.reason)
        length = None
        for name, value in resp.getheaders():
            lname = name.lower()
            if lname in HOP_BY_HOP:
                continue
            if lname == "content-length":
                length = value
            self.send_header(name, value)
        no_body = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        chunked = False
        if not no_body and length is None:
            chunked = True
            self.send_header("Transfer-Encoding", "chunked")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        try:
            if not no_body:
                while True:
                    data = resp.read(65536)
                    if not data:
                        break
                    if chunked:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    else:
                        self.wfile.write(data)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
            else:
                resp.read()
        finally:
            # A response read to its end leaves the backend connection ready for the next request;
            # one cut short (the client went away) does not.
            complete = resp.isclosed() or resp.length in (None, 0)
            resp.close()
            if resp.will_close or not complete:
                self.close_backend()
        return status

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = handle_any


def stamp():
    t = time.time()
    return time.strftime("%H:%M:%S", time.localtime(t)) + ".%03d" % int((t % 1) * 1000)


class Route:
    def __init__(self, spec):
        try:
            self.name, self.service, port = spec.split(",")
            self.port = int(port)
        except ValueError:
            raise SystemExit("sigv4_front: --route wants NAME,SERVICE,BACKEND_PORT, got %r" % spec)


class FrontServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, name, scheme, route, verifier, ssl_context=None):
        self.name = name
        self.scheme = scheme
        self.route = route
        self.verifier = verifier
        self.ssl_context = ssl_context
        super().__init__(("127.0.0.1", 0), FrontHandler)

    def finish_request(self, request, client_address):
        # TLS handshakes happen here, in the connection's own thread.
        if self.ssl_context is not None:
            request.settimeout(30)
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                log("%s %s TLS handshake failed from %s:%d: %s" % (stamp(), self.name, client_address[0],
                                                                  client_address[1], exc))
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout, ssl.SSLError)):
            return
        log("%s %s internal error: %r" % (stamp(), self.name, exc))


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def read_keys(path):
    keys = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                key_id, _, secret = line.partition(" ")
                keys[key_id] = secret.strip()
    if not keys:
        raise SystemExit("sigv4_front: no credentials in %s" % path)
    return keys


def watch_parent(parent):
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.25)


def main():
    ap = argparse.ArgumentParser(description="SigV4-checking reverse proxy for local AWS services")
    ap.add_argument("--credentials", required=True, help='file of "ACCESS_KEY_ID SECRET" lines')
    ap.add_argument("--route", action="append", required=True, help="NAME,SERVICE,BACKEND_PORT")
    ap.add_argument("--ports-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--untrusted-cert")
    ap.add_argument("--untrusted-key")
    ap.add_argument("--untrusted-route")
    ap.add_argument("--max-skew", type=int, default=900, help="seconds (AWS allows 15 minutes)")
    ap.add_argument("--parent", type=int, help="exit when this process (our parent) is gone")
    args = ap.parse_args()
    parent = args.parent or os.getppid()

    verifier = Verifier(read_keys(args.credentials), args.max_skew)
    routes = [Route(r) for r in args.route]
    servers = []
    for route in routes:
        servers.append(FrontServer(route.name + "_http", "http", route, verifier))
        if args.cert:
            servers.append(FrontServer(route.name + "_https", "https", route, verifier,
                                       tls_context(args.cert, args.key)))
    if args.untrusted_cert:
        target = next((r for r in routes if r.name == args.untrusted_route), routes[0])
        servers.append(FrontServer("untrusted_https", "https", target, verifier,
                                   tls_context(args.untrusted_cert, args.untrusted_key)))
    for srv in servers:
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.25}, daemon=True).start()
    tmp = args.ports_file + ".tmp"
    with open(tmp, "w") as f:
        for srv in servers:
            f.write("%s %d\n" % (srv.name, srv.server_address[1]))
    os.rename(tmp, args.ports_file)
    log("%s front ready: %s" % (stamp(), ", ".join("%s=127.0.0.1:%d->%d" % (s.name, s.server_address[1],
                                                                           s.route.port) for s in servers)))
    try:
        watch_parent(parent)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
