#!/usr/bin/python3
"""The services JavaScript v2's credential classes talk to, on 127.0.0.1: the SSO portal, Cognito
Identity and STS (GetSessionToken, AssumeRole with MFA, AssumeRoleWithSAML,
AssumeRoleWithWebIdentity). Signed STS calls are checked with botocore (cred_server.verify_sigv4)
against MASTER_KEYS. Same start-up contract as cred_server.py ("PORT <n>", "PID <pid>").

  GET  /federation/credentials?account_id=&role_name=   SSO GetRoleCredentials; the
                                  x-amz-sso_bearer_token header must be SSO_TOKEN
  POST /  (X-Amz-Target: AWSCognitoIdentityService.*)   GetId, GetCredentialsForIdentity,
                                  GetOpenIdToken
  POST /  (form, Action=...)      STS
  GET  /_control/last             the last call: {"action", "params", "signed_by"}
"""
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cred_server  # noqa: E402  (verify_sigv4, issued, iso, the reply helpers)

SSO_TOKEN = "sso-access-token-0001"
MASTER_KEYS = {"AKIDMASTER": "master-secret-key-000000"}
cred_server.config["sts_keys"] = dict(MASTER_KEYS)
last = {}


class Handler(cred_server.Handler):
    def record(self, action, params, signed_by=None):
        last.clear()
        last.update({"action": action, "params": params, "signed_by": signed_by})

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/_control/last":
            return self.reply(200, last)
        if url.path == "/federation/credentials":
            q = dict(urllib.parse.parse_qsl(url.query))
            self.record("GetRoleCredentials", q)
            if self.headers.get("x-amz-sso_bearer_token") != SSO_TOKEN:
                return self.reply(401, {"message": "Session token not found or invalid"})
            c = cred_server.issued("sso")
            return self.reply(200, {"roleCredentials": {
                "accessKeyId": c["AccessKeyId"], "secretAccessKey": c["SecretAccessKey"],
                "sessionToken": c["Token"], "expiration": int((time.time() + 3600) * 1000)}})
        return self.reply(404, {"message": "no such path"})

    def do_POST(self):
        body = self.body()
        target = self.headers.get("X-Amz-Target", "")
        if target.startswith("AWSCognitoIdentityService."):
            return self.cognito(target.split(".", 1)[1], json.loads(body or b"{}"))
        form = dict(urllib.parse.parse_qsl(body.decode()))
        action = form.get("Action")
        signed_by = None
        if action in ("GetSessionToken", "AssumeRole"):
            problem = cred_server.verify_sigv4("POST", self.path, self.headers, body)
            if problem:
                return self.sts_error(403, "SignatureDoesNotMatch", problem)
            signed_by = self.signing_key()
        self.record(action, form, signed_by)
        if action == "AssumeRole" and "SerialNumber" in form and form.get("TokenCode") != "123456":
            return self.sts_error(403, "AccessDenied", "MultiFactorAuthentication failed")
        c = cred_server.issued("sts")
        body = ("<{a}Response><{a}Result><Credentials><AccessKeyId>{id}</AccessKeyId>"
                "<SecretAccessKey>{sk}</SecretAccessKey><SessionToken>{tok}</SessionToken>"
                "<Expiration>{exp}</Expiration></Credentials></{a}Result></{a}Response>").format(
                    a=action, id=c["AccessKeyId"], sk=c["SecretAccessKey"], tok=c["Token"], exp=c["Expiration"])
        self.reply(200, body, "text/xml")

    def sts_error(self, status, code, message):
        self.reply(status, "<ErrorResponse><Error><Code>%s</Code><Message>%s</Message></Error></ErrorResponse>"
                   % (code, message), "text/xml")

    def cognito(self, op, doc):
        self.record(op, doc)
        if op == "GetId":
            if not doc.get("IdentityPoolId"):
                return self.reply(400, {"__type": "InvalidParameterException", "message": "no pool"})
            return self.reply(200, {"IdentityId": "us-east-1:identity-0001"})
        if op == "GetOpenIdToken":
            return self.reply(200, {"IdentityId": doc["IdentityId"], "Token": "cognito-oidc-token"})
        if op == "GetCredentialsForIdentity":
            c = cred_server.issued("cognito")
            return self.reply(200, {"IdentityId": doc["IdentityId"], "Credentials": {
                "AccessKeyId": c["AccessKeyId"], "SecretKey": c["SecretAccessKey"],
                "SessionToken": c["Token"], "Expiration": int(time.time()) + 3600}})
        return self.reply(400, {"__type": "UnknownOperationException", "message": op})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=cred_server.watch_parent, args=(os.getppid(),), daemon=True).start()
    sys.stdout.write("PORT %d\nPID %d\n" % (server.server_address[1], os.getpid()))
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
