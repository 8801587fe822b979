#!/usr/bin/python3
"""A small EC2 service for local runs: the ec2 (query) protocol over a little in-memory state.

    /usr/bin/python3 tools/ec2_fixture.py [--port N] [--port-file FILE] [--region us-east-1]
        [--pending-seconds S] [--shutdown-seconds S]

Listens on 127.0.0.1 (port 0 = any free port), prints "PORT <n>" on stdout (and writes it to
--port-file). Requests are form-encoded POST bodies (or a GET query string) carrying
Action=...&Version=...; answers are EC2 XML in the 2016-11-15 namespace with a <requestId>, errors
are the EC2 error document with status 400. No signature checking here: tools/sigv4_front.py does it.

Actions: DescribeInstances (InstanceId.N, Filter.N.Name / Filter.N.Value.M, MaxResults / NextToken),
RunInstances (ImageId, InstanceType, MinCount, MaxCount, KeyName, TagSpecification.N...),
TerminateInstances, StopInstances, StartInstances (InstanceId.N). A few instances are seeded at start.
Instances change state over time: a new instance is pending for --pending-seconds (default 0: it is
running by the time anyone looks), a started one pending as long; a terminated one is shutting-down
for --shutdown-seconds (default 0: terminated at once), a stopped one stopping as long. The tags
fixture:pending-seconds and fixture:shutdown-seconds given at RunInstances set both for that instance
(for the waiter specs).
The process exits when its parent process (or --parent PID, which must be the parent) goes away.
"""

import argparse
import base64
import datetime
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
OWNER_ID = "123456789012"
STATES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}
INSTANCE_ID_RE = re.compile(r"^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
AMI_RE = re.compile(r"^ami-[0-9a-f]{8,17}$")
INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
MAX_BODY = 1 << 20


class EC2Error(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class State:
    """Instances in creation order; every method runs under the lock."""

    def __init__(self, region, pending_seconds=0.0, shutdown_seconds=0.0):
        self.lock = threading.Lock()
        self.region = region
        self.pending_seconds = pending_seconds
        self.shutdown_seconds = shutdown_seconds
        self.instances = {}  # id -> dict, insertion ordered
        self.counter = 0
        self.seed()

    def new_id(self, prefix):
        self.counter += 1
        return "%s-%017x" % (prefix, 0x0A000000000000000 + self.counter * 0x1F3)

    def seed(self):
        launched = time.time() - 86400
        self.launch("ami-0abcdef1234567890", "t2.micro", 1, [("Name", "web-1"), ("env", "prod")], "running", launched)
        self.launch("ami-0abcdef1234567890", "t2.micro", 1, [("Name", "web-2"), ("env", "prod")], "running", launched)
        self.launch("ami-0fedcba9876543210", "t3.small", 1, [("Name", "db-1"), ("env", "prod")], "stopped", launched)
        self.launch("ami-0123456789abcdef0", "m5.large", 2, [("Name", "batch"), ("env", "dev")], "running", launched)
        self.launch("ami-0123456789abcdef0", "c5.xlarge", 1, [("Name", "old-batch"), ("env", "dev")], "terminated",
                    launched)
        self.launch("ami-0fedcba9876543210", "t3.small", 1, [("Name", "db-2"), ("env", "staging")], "running",
                    launched)

    def launch(self, image_id, instance_type, count, tags, state, launched=None, key_name=None):
        pending_seconds = seconds_tag(tags, "fixture:pending-seconds", self.pending_seconds)
        shutdown_seconds = seconds_tag(tags, "fixture:shutdown-seconds", self.shutdown_seconds)
        reservation = self.new_id("r")
        created = []
        for i in range(count):
            iid = self.new_id("i")
            n = len(self.instances) + 1
            ip = "10.0.%d.%d" % (n // 250, n % 250 + 4)
            inst = {
                "instanceId": iid,
                "reservationId": reservation,
                "imageId": image_id,
                "instanceType": instance_type,
                "state": state,
                "launchTime": launched if launched is not None else time.time(),
                "amiLaunchIndex": i,
                "privateIpAddress": ip,
                "privateDnsName": "ip-%s.ec2.internal" % ip.replace(".", "-"),
                "availabilityZone": self.region + "a",
                "keyName": key_name,
                "tags": list(tags),
                "settles": None,
                "target": None,
                "pendingSeconds": pending_seconds,
                "shutdownSeconds": shutdown_seconds,
            }
            if state == "pending":
                begin_transition(inst, "running", inst["pendingSeconds"])
            self.instances[iid] = inst
            created.append(inst)
        return reservation, created


TRANSIENT = {"running": "pending", "terminated": "shutting-down", "stopped": "stopping"}


def seconds_tag(tags, key, default):
    for k, v in tags:
        if k == key:
            try:
                return max(0.0, float(v))
            except ValueError:
                raise EC2Error("InvalidParameterValue", "The tag %s must be a number of seconds" % key)
    return default


def begin_transition(inst, target, seconds):
    """The instance reaches `target` after `seconds` (0: at the next look); meanwhile it is in the
    transient state."""
    inst["state"] = TRANSIENT[target]
    inst["settles"], inst["target"] = time.time() + seconds, target


def settle(inst):
    if inst["target"] is not None and time.time() >= inst["settles"]:
        inst["state"], inst["settles"], inst["target"] = inst["target"], None, None


def param_list(params, prefix):
    """Values of prefix.1, prefix.2, ... in index order."""
    out = []
    pat = re.compile(r"^" + re.escape(prefix) + r"\.(\d+)$")
    for k, v in params.items():
        m = pat.match(k)
        if m:
            out.append((int(m.group(1)), v))
    return [v for _, v in sorted(out)]


def indexed_groups(params, prefix):
    """{N: {rest: value}} for keys prefix.N.rest."""
    groups = {}
    pat = re.compile(r"^" + re.escape(prefix) + r"\.(\d+)\.(.+)$")
    for k, v in params.items():
        m = pat.match(k)
        if m:
            groups.setdefault(int(m.group(1)), {})[m.group(2)] = v
    return [groups[k] for k in sorted(groups)]


def tag_value(inst, key):
    for k, v in inst["tags"]:
        if k == key:
            return v
    return None


def filter_values(inst, name):
    """The instance's values for a filter name, or None when the filter is unknown."""
    if name == "instance-id":
        return [inst["instanceId"]]
    if name == "instance-state-name":
        return [inst["state"]]
    if name == "instance-state-code":
        return [str(STATES[inst["state"]])]
    if name == "instance-type":
        return [inst["instanceType"]]
    if name == "image-id":
        return [inst["imageId"]]
    if name == "reservation-id":
        return [inst["reservationId"]]
    if name in ("availability-zone", "placement.availability-zone"):
        return [inst["availabilityZone"]]
    if name in ("private-ip-address", "network-interface.addresses.private-ip-address"):
        return [inst["privateIpAddress"]]
    if name == "private-dns-name":
        return [inst["privateDnsName"]]
    if name == "key-name":
        return [inst["keyName"]] if inst["keyName"] else []
    if name == "owner-id":
        return [OWNER_ID]
    if name == "tag-key":
        return [k for k, _ in inst["tags"]]
    if name == "tag-value":
        return [v for _, v in inst["tags"]]
    if name.startswith("tag:") and len(name) > 4:
        v = tag_value(inst, name[4:])
        return [v] if v is not None else []
    return None


def matches(pattern, value):
    # EC2 filter values accept * and ? wildcards; a backslash escapes them.
    if "*" not in pattern and "?" not in pattern:
        return pattern == value
    rx = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            rx += re.escape(pattern[i + 1])
            i += 2
            continue
        rx += ".*" if c == "*" else "." if c == "?" else re.escape(c)
        i += 1
    return re.fullmatch(rx, value, re.S) is not None


def parse_filters(params):
    filters = []
    for g in indexed_groups(params, "Filter"):
        name = g.get("Name")
        if not name:
            raise EC2Error("MissingParameter", "The request must contain the parameter Filter.Name")
        values = [v for k, v in sorted(((k, v) for k, v in g.items() if k.startswith("Value.")),
                                       key=lambda kv: int(kv[0][6:]) if kv[0][6:].isdigit() else 0)]
        if not values:
            raise EC2Error("InvalidParameterValue", "The filter '%s' must have at least one value" % name)
        filters.append((name, values))
    return filters


def instance_ids(params, required=False):
    ids = param_list(params, "InstanceId")
    if required and not ids:
        raise EC2Error("MissingParameter", "The request must contain the parameter InstanceId")
    for iid in ids:
        if not INSTANCE_ID_RE.match(iid):
            raise EC2Error("InvalidInstanceID.Malformed", "Invalid id: \"%s\"" % iid)
    return ids


def lookup(state, ids):
    missing = [i for i in ids if i not in state.instances]
    if missing:
        if len(missing) == 1:
            msg = "The instance ID '%s' does not exist" % missing[0]
        else:
            msg = "The instance IDs '%s' do not exist" % ", ".join(missing)
        raise EC2Error("InvalidInstanceID.NotFound", msg)
    return [state.instances[i] for i in ids]


def x(tag, value):
    if value is None or value == "":
        return "<%s/>" % tag
    return "<%s>%s</%s>" % (tag, escape(str(value)), tag)


def state_xml(tag, state):
    return "<%s><code>%d</code><name>%s</name></%s>" % (tag, STATES[state], state, tag)


def tags_xml(tags):
    if not tags:
        return "<tagSet/>"
    return "<tagSet>" + "".join("<item>%s%s</item>" % (x("key", k), x("value", v)) for k, v in tags) + "</tagSet>"


def instance_xml(inst):
    parts = [
        x("instanceId", inst["instanceId"]),
        x("imageId", inst["imageId"]),
        state_xml("instanceState", inst["state"]),
        x("privateDnsName", inst["privateDnsName"] if inst["state"] != "terminated" else ""),
        x("dnsName", ""),
        x("reason", ""),
    ]
    if inst["keyName"]:
        parts.append(x("keyName", inst["keyName"]))
    parts += [
        x("amiLaunchIndex", inst["amiLaunchIndex"]),
        "<productCodes/>",
        x("instanceType", inst["instanceType"]),
        x("launchTime", iso(inst["launchTime"])),
        "<placement>%s<groupName/>%s</placement>" % (x("availabilityZone", inst["availabilityZone"]),
                                                     x("tenancy", "default")),
        "<monitoring><state>disabled</state></monitoring>",
    ]
    if inst["state"] != "terminated":
        parts.append(x("privateIpAddress", inst["privateIpAddress"]))
    parts += [
        "<groupSet/>",
        x("architecture", "x86_64"),
        x("rootDeviceType", "ebs"),
        x("rootDeviceName", "/dev/xvda"),
        "<blockDeviceMapping/>",
        x("virtualizationType", "hvm"),
        x("hypervisor", "xen"),
        tags_xml(inst["tags"]),
        x("ebsOptimized", "false"),
        x("enaSupport", "true"),
    ]
    return "<item>" + "".join(parts) + "</item>"


def reservations_xml(instances):
    groups = {}
    for inst in instances:
        groups.setdefault(inst["reservationId"], []).append(inst)
    if not groups:
        return "<reservationSet/>"
    out = ["<reservationSet>"]
    for rid, insts in groups.items():
        out.append("<item>%s%s<groupSet/><instancesSet>%s</instancesSet></item>" % (
            x("reservationId", rid), x("ownerId", OWNER_ID), "".join(instance_xml(i) for i in insts)))
    out.append("</reservationSet>")
    return "".join(out)


def encode_token(offset, fingerprint):
    raw = json.dumps({"o": offset, "f": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token):
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        d = json.loads(raw)
        return int(d["o"]), d["f"]
    except Exception:
        raise EC2Error("InvalidParameterValue", "Invalid value '%s' for NextToken" % token)


def describe_instances(state, params):
    ids = instance_ids(params)
    filters = parse_filters(params)
    max_results = params.get("MaxResults")
    if max_results is not None:
        if ids:
            raise EC2Error("InvalidParameterCombination",
                           "The parameter instancesSet cannot be used with the parameter maxResults")
        try:
            max_results = int(max_results)
        except ValueError:
            raise EC2Error("InvalidParameterValue", "Invalid value '%s' for maxResults" % max_results)
        if not 5 <= max_results <= 1000:
            raise EC2Error("InvalidParameterValue",
                           "Value ( %d ) for parameter maxResults is invalid. "
                           "Expecting a value between 5 and 1000." % max_results)
    candidates = lookup(state, ids) if ids else list(state.instances.values())
    for inst in candidates:
        settle(inst)
    out = []
    for inst in candidates:
        ok = True
        for name, values in filters:
            have = filter_values(inst, name)
            if have is None:
                raise EC2Error("InvalidParameterValue", "The filter '%s' is invalid" % name)
            if not any(matches(p, v) for p in values for v in have):
                ok = False
                break
        if ok:
            out.append(inst)
    fingerprint = "%x" % (hash(tuple(sorted((n, tuple(v)) for n, v in filters))) & 0xFFFFFFFF)
    start = 0
    token = params.get("NextToken")
    if token:
        start, fp = decode_token(token)
        if fp != fingerprint or start < 0 or start > len(out):
            raise EC2Error("InvalidParameterValue", "Invalid value '%s' for NextToken" % token)
    next_token = None
    if max_results is not None:
        page = out[start:start + max_results]
        if start + max_results < len(out):
            next_token = encode_token(start + max_results, fingerprint)
    else:
        page = out[start:]
    body = reservations_xml(page)
    if next_token:
        body += x("nextToken", next_token)
    return "DescribeInstancesResponse", body


def run_instances(state, params):
    image_id = params.get("ImageId")
    if not image_id:
        raise EC2Error("MissingParameter", "The request must contain the parameter ImageId")
    if not AMI_RE.match(image_id):
        raise EC2Error("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")" % image_id)
    counts = {}
    for name in ("MinCount", "MaxCount"):
        v = params.get(name)
        if v is None:
            raise EC2Error("MissingParameter", "The request must contain the parameter %s" % name)
        try:
            counts[name] = int(v)
        except ValueError:
            raise EC2Error("InvalidParameterValue", "Invalid value '%s' for %s" % (v, name))
    if counts["MinCount"] < 1 or counts["MaxCount"] < 1:
        raise EC2Error("InvalidParameterValue", "MinCount and MaxCount must be greater than zero")
    if counts["MinCount"] > counts["MaxCount"]:
        raise EC2Error("InvalidParameterValue", "MinCount must be less than or equal to MaxCount")
    if counts["MinCount"] > 20:
        raise EC2Error("InstanceLimitExceeded",
                       "You have requested more instances (%d) than your current instance limit of 20 allows"
                       % counts["MinCount"])
    count = min(counts["MaxCount"], 20)
    instance_type = params.get("InstanceType", "m1.small")
    if not INSTANCE_TYPE_RE.match(instance_type):
        raise EC2Error("InvalidParameterValue", "Invalid value '%s' for InstanceType." % instance_type)
    tags = []
    for spec in indexed_groups(params, "TagSpecification"):
        rtype = spec.get("ResourceType")
        if rtype is None:
            raise EC2Error("MissingParameter", "The request must contain the parameter TagSpecification.ResourceType")
        groups = {}
        for k, v in spec.items():
            m = re.match(r"^Tag\.(\d+)\.(Key|Value)$", k)
            if m:
                groups.setdefault(int(m.group(1)), {})[m.group(2)] = v
        if rtype != "instance":
            continue
        for n in sorted(groups):
            key = groups[n].get("Key")
            if not key:
                raise EC2Error("InvalidParameterValue", "Tag keys must not be empty")
            if key.startswith("aws:"):
                raise EC2Error("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
            tags.append((key, groups[n].get("Value", "")))
    reservation, created = state.launch(image_id, instance_type, count, tags, "pending",
                                        key_name=params.get("KeyName"))
    body = "%s%s<groupSet/><instancesSet>%s</instancesSet>" % (
        x("reservationId", reservation), x("ownerId", OWNER_ID), "".join(instance_xml(i) for i in created))
    return "RunInstancesResponse", body


def change_state(state, params, response, new_state, allowed_from):
    insts = lookup(state, instance_ids(params, required=True))
    for inst in insts:
        settle(inst)
    for inst in insts:
        if inst["state"] not in allowed_from and inst["state"] != new_state:
            raise EC2Error("IncorrectInstanceState",
                           "The instance '%s' is not in a state from which it can be %s." % (
                               inst["instanceId"], new_state))
    items = []
    for inst in insts:
        previous = inst["state"]
        if previous != new_state:
            seconds = inst["pendingSeconds"] if new_state == "running" else inst["shutdownSeconds"]
            begin_transition(inst, new_state, seconds)
            settle(inst)
        items.append("<item>%s%s%s</item>" % (x("instanceId", inst["instanceId"]),
                                              state_xml("currentState", inst["state"]),
                                              state_xml("previousState", previous)))
    return response, "<instancesSet>%s</instancesSet>" % "".join(items)


def terminate_instances(state, params):
    return change_state(state, params, "TerminateInstancesResponse", "terminated",
                        ("pending", "running", "stopping", "stopped", "shutting-down"))


def stop_instances(state, params):
    return change_state(state, params, "StopInstancesResponse", "stopped", ("pending", "running", "stopping"))


def start_instances(state, params):
    return change_state(state, params, "StartInstancesResponse", "running", ("stopped", "pending"))


ACTIONS = {
    "DescribeInstances": describe_instances,
    "RunInstances": run_instances,
    "TerminateInstances": terminate_instances,
    "StopInstances": stop_instances,
    "StartInstances": start_instances,
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "AmazonEC2"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def log_line(self, status, action, detail=""):
        sys.stderr.write("%s ec2 %s %s %s %d %s\n" % (
            time.strftime("%H:%M:%S"), self.command, self.path[:80], action or "-", status, detail))
        sys.stderr.flush()

    def answer(self, status, body, request_id):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", request_id)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def error(self, err, request_id, action):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>%s%s</Error></Errors>%s</Response>'
                % (x("Code", err.code), x("Message", err.message), x("RequestID", request_id)))
        self.answer(err.status, body, request_id)
        self.log_line(err.status, action, err.code)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise EC2Error("RequestEntityTooLarge", "Request body too large", 413)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        request_id = str(uuid.uuid4())
        action = None
        try:
            body = self.read_body()
            params = {}
            query = self.path.partition("?")[2]
            if query:
                params.update(parse_qsl(query, keep_blank_values=True))
            if body:
                ctype = self.headers.get("Content-Type", "")
                if ctype and "x-www-form-urlencoded" not in ctype:
                    raise EC2Error("InvalidParameterValue",
                                   "Unsupported Content-Type '%s' (expecting application/x-www-form-urlencoded)"
                                   % ctype)
                try:
                    params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
                except (ValueError, UnicodeDecodeError):
                    raise EC2Error("InvalidParameterValue", "The request body is not a valid form encoding")
            action = params.get("Action")
            if not action:
                raise EC2Error("MissingAction", "The request must contain the parameter Action")
            fn = ACTIONS.get(action)
            if fn is None:
                raise EC2Error("InvalidAction", "The action %s is not valid for this web service." % action)
            if not params.get("Version"):
                raise EC2Error("MissingParameter", "The request must contain the parameter Version")
            with self.server.state.lock:
                name, inner = fn(self.server.state, params)
            xml = '<?xml version="1.0" encoding="UTF-8"?>\n<%s xmlns="%s">%s%s</%s>' % (
                name, NS, x("requestId", request_id), inner, name)
            self.answer(200, xml, request_id)
            self.log_line(200, action)
        except EC2Error as err:
            self.error(err, request_id, action)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # a bug here should show up as a 500 with the reason in the log
            self.error(EC2Error("InternalError", "An internal error has occurred: %r" % exc, 500), request_id, action)

    do_POST = handle_any
    do_GET = handle_any

    def do_PUT(self):
        self.read_body()
        self.error(EC2Error("InvalidAction", "PUT is not supported by this web service.", 400),
                   str(uuid.uuid4()), None)

    do_DELETE = do_PUT


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def watch_parent(parent):
    # Exit as soon as the process that started us is gone (we get reparented).
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.25)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--parent", type=int, help="exit when this process (our parent) is gone")
    ap.add_argument("--pending-seconds", type=float, default=0.0, help="how long a new instance stays pending")
    ap.add_argument("--shutdown-seconds", type=float, default=0.0,
                    help="how long a terminated (stopped) instance stays shutting-down (stopping)")
    args = ap.parse_args()
    parent = args.parent or os.getppid()
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = State(args.region, args.pending_seconds, args.shutdown_seconds)
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print("PORT %d" % port, flush=True)
    threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()
    sys.stderr.write("ec2 fixture listening on 127.0.0.1:%d with %d seeded instances\n"
                     % (port, len(srv.state.instances)))
    sys.stderr.flush()
    try:
        srv.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
