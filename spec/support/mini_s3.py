"""An in-memory S3 for fault_server.py's /s3mp/ paths: objects and multipart uploads with the
parts of the API s3rver lacks (AbortMultipartUpload, ListParts, ListMultipartUploads), path
style below /s3mp (endpoint http://127.0.0.1:<port>/s3mp). No signature checks.

  PUT    /s3mp/<b>/<key>                               PutObject
  GET    /s3mp/<b>/<key>                               GetObject
  GET    /s3mp/<b>/<key>?tagging                       GetObjectTagging (the PutObject's x-amz-tagging)
  POST   /s3mp/<b>/<key>?uploads                       CreateMultipartUpload
  PUT    /s3mp/<b>/<key>?partNumber=N&uploadId=U       UploadPart (a key containing "fail-part-N"
                                                       refuses part N with 400 InvalidPart, one
                                                       containing "flaky-part-N" answers part N's
                                                       first try with 500 InternalError; one
                                                       containing "slow" waits 300 ms per part)
  POST   /s3mp/<b>/<key>?uploadId=U                    CompleteMultipartUpload
  DELETE /s3mp/<b>/<key>?uploadId=U                    AbortMultipartUpload
  GET    /s3mp/<b>/<key>?uploadId=U                    ListParts
  GET    /s3mp/<b>?uploads                             ListMultipartUploads
  GET    /s3mp/_stats                                  {"uploadParts": n, "aborts": n, "creates": n}
"""
import hashlib
import json
import re
import threading
import time
import uuid
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

lock = threading.Lock()
objects = {}   # (bucket, key) -> bytes
tag_headers = {}  # (bucket, key) -> the x-amz-tagging of its PutObject
uploads = {}   # upload id -> {"bucket":, "key":, "parts": {n: bytes}}
stats = {"uploadParts": 0, "aborts": 0, "creates": 0}
flaky_failed = set()  # (upload id, part number) whose first try failed


def etag(data):
    return '"%s"' % hashlib.md5(data).hexdigest()


def send(handler, status, body=b"", headers=None):
    if isinstance(body, str):
        body = body.encode()
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("x-amz-request-id", "mini-s3")
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def xml(handler, status, root, inner):
    send(handler, status, '<?xml version="1.0" encoding="UTF-8"?><%s>%s</%s>' % (root, inner, root),
         {"Content-Type": "application/xml"})


def error(handler, status, code, message):
    xml(handler, status, "Error", "<Code>%s</Code><Message>%s</Message>" % (code, escape(message)))


def upload_of(handler, query):
    upload = uploads.get(query.get("uploadId", [""])[0])
    if upload is None:
        error(handler, 404, "NoSuchUpload", "The specified upload does not exist.")
    return upload


def handle(handler, body):
    url = urlsplit(handler.path)
    segments = url.path.split("/", 3)[2:]  # ["bucket", "key"] below /s3mp/
    query = parse_qs(url.query, keep_blank_values=True)
    method = handler.command
    if segments == ["_stats"]:
        with lock:
            return send(handler, 200, json.dumps(stats), {"Content-Type": "application/json"})
    bucket = unquote(segments[0]) if segments else ""
    key = unquote(segments[1]) if len(segments) > 1 else None
    with lock:
        if key is None:
            if method == "GET" and "uploads" in query:
                listed = "".join("<Upload><Key>%s</Key><UploadId>%s</UploadId></Upload>" % (escape(u["key"]), uid)
                                 for uid, u in uploads.items() if u["bucket"] == bucket)
                return xml(handler, 200, "ListMultipartUploadsResult", "<Bucket>%s</Bucket>%s" % (bucket, listed))
            return send(handler, 200)  # CreateBucket, HeadBucket
        if "uploads" in query and method == "POST":
            uid = uuid.uuid4().hex
            uploads[uid] = {"bucket": bucket, "key": key, "parts": {}}
            stats["creates"] += 1
            return xml(handler, 200, "InitiateMultipartUploadResult",
                       "<Bucket>%s</Bucket><Key>%s</Key><UploadId>%s</UploadId>" % (bucket, escape(key), uid))
        if "tagging" in query and method == "GET":
            tags = parse_qs(tag_headers.get((bucket, key), ""))
            listed = "".join("<Tag><Key>%s</Key><Value>%s</Value></Tag>" % (escape(k), escape(v[0]))
                             for k, v in sorted(tags.items()))
            return xml(handler, 200, "Tagging", "<TagSet>%s</TagSet>" % listed)
        if "uploadId" not in query:
            if method == "PUT":
                objects[(bucket, key)] = body
                tag_headers[(bucket, key)] = handler.headers.get("x-amz-tagging", "")
                return send(handler, 200, b"", {"ETag": etag(body)})
            if (bucket, key) not in objects:
                return error(handler, 404, "NoSuchKey", "The specified key does not exist.")
            return send(handler, 200, objects[(bucket, key)], {"Content-Type": "application/octet-stream"})
        upload = upload_of(handler, query)
        if upload is None:
            return None
        if method == "PUT":
            number = int(query["partNumber"][0])
            stats["uploadParts"] += 1
            if "fail-part-%d" % number in key:
                return error(handler, 400, "InvalidPart", "part %d refused" % number)
            if "flaky-part-%d" % number in key and (query["uploadId"][0], number) not in flaky_failed:
                flaky_failed.add((query["uploadId"][0], number))
                return error(handler, 500, "InternalError", "part %d failed once" % number)
            upload["parts"][number] = body
            slow = "slow" in key
        elif method == "DELETE":
            del uploads[query["uploadId"][0]]
            stats["aborts"] += 1
            return send(handler, 204)
        elif method == "GET":
            listed = "".join("<Part><PartNumber>%d</PartNumber><ETag>%s</ETag><Size>%d</Size></Part>"
                             % (n, escape(etag(p)), len(p)) for n, p in sorted(upload["parts"].items()))
            return xml(handler, 200, "ListPartsResult", "<Bucket>%s</Bucket><Key>%s</Key>%s" % (bucket, escape(key), listed))
        else:  # complete
            numbers = [int(n) for n in re.findall(rb"<PartNumber>(\d+)</PartNumber>", body)]
            data = b"".join(upload["parts"][n] for n in numbers)
            objects[(bucket, key)] = data
            del uploads[query["uploadId"][0]]
            return xml(handler, 200, "CompleteMultipartUploadResult",
                       "<Bucket>%s</Bucket><Key>%s</Key><ETag>%s</ETag>" % (bucket, escape(key), escape(etag(data))))
    if slow:
        time.sleep(0.3)
    return send(handler, 200, b"", {"ETag": etag(body)})
