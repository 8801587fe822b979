-- Unit specs of the SigV4 signer's rules, its Lua binding and an independent cross-check
-- against botocore. The byte-exact AWS test suite lives in signer_suite_spec.lua.
local signer = require("awspromise.signer")
local support = require "support.sigv4_cases"

local CREDS = { accessKeyId = "AKIDEXAMPLE", secretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }
local T = "20150830T123600Z"
local EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

local function opts(service, extra)
  local o = { time = T, region = "us-east-1", service = service or "service" }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local function lines(s)
  local t = {}
  for l in (s .. "\n"):gmatch("(.-)\n") do t[#t + 1] = l end
  return t
end

-- canonical request of a GET with the given path/query and headers (Host added)
local function cr(path, query, service, extra, headers)
  local h = { { "Host", "example.amazonaws.com" } }
  for _, p in ipairs(headers or {}) do h[#h + 1] = p end
  return (signer.canonical_request({ method = "GET", path = path, query = query, headers = h }, opts(service, extra)))
end

local function cpath(path, service, extra) return lines(cr(path, nil, service, extra))[2] end
local function cquery(query) return lines(cr("/", query))[3] end

local function header_block(headers, service)
  local l = lines(cr("/", nil, service, nil, headers))
  local out = {}
  for i = 4, #l do
    if l[i] == "" then break end
    out[#out + 1] = l[i]
  end
  return table.concat(out, "\n"), l[#l - 1]
end

describe("signer", function()
  it("exposes its functions", function()
    for _, name in ipairs({ "sign", "canonical_request", "string_to_sign", "signing_key", "signature",
      "chunk_signature", "trailer_signature", "amz_date", "uri_encode", "cache_stats" }) do
      assert.are.equal("function", type(signer[name]), name)
    end
  end)

  describe("percent-encoding", function()
    it("keeps only A-Za-z0-9-._~ and escapes the rest with upper-case hex", function()
      assert.are.equal("AZaz09-._~", signer.uri_encode("AZaz09-._~"))
      assert.are.equal("%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D%20%25",
        signer.uri_encode("!*'();:@&=+$,/?#[] %"))
      assert.are.equal("a/b%2Fc", signer.uri_encode("a/b%2Fc", true):gsub("%%252F", "%%2F"), "keep_slash")
      assert.are.equal("a/b%20c", signer.uri_encode("a/b c", true))
    end)

    it("encodes UTF-8 byte by byte", function()
      assert.are.equal("%E1%88%B4", signer.uri_encode("\u{1234}"))
      assert.are.equal("/caf%C3%A9/%F0%9F%98%80", cpath("/café/\u{1F600}"))
    end)

    it("encodes a generic service's path twice (escapes are escaped again)", function()
      assert.are.equal("/a%2520b/arn%253Aaws", cpath("/a%20b/arn%3Aaws"))
      assert.are.equal("/a%20b", cpath("/a b"))
    end)

    it("encodes an S3 path once: existing escapes kept (upper-cased), the rest escaped", function()
      assert.are.equal("/a%20b/arn%3Aaws", cpath("/a%20b/arn%3Aaws", "s3"))
      assert.are.equal("/test%24file.text", cpath("/test$file.text", "s3"))
      assert.are.equal("/a%20b%2Fc", cpath("/a b%2fc", "s3"))
      assert.are.equal("/100%25", cpath("/100%", "s3"), "a lone % is not an escape")
    end)

    it("lets double_encode be chosen explicitly", function()
      assert.are.equal("/a%20b", cpath("/a%20b", "service", { double_encode = false }))
      assert.are.equal("/a%2520b", cpath("/a%20b", "s3", { double_encode = true }))
    end)
  end)

  describe("path normalization", function()
    local cases = {
      { "/a/./b/../c//d", "/a/c/d" }, { "/example/..", "/" }, { "/./", "/" }, { "//", "/" },
      { "//example//", "/example/" }, { "/../a", "/a" }, { "/a/.", "/a" }, { "", "/" }, { "/a/b/../../..", "/" },
    }
    for _, c in ipairs(cases) do
      it(("normalizes %q to %q for generic services"):format(c[1], c[2]), function()
        assert.are.equal(c[2], cpath(c[1]))
      end)
    end

    it("never normalizes S3 paths", function()
      assert.are.equal("/a/./b/../c//d", cpath("/a/./b/../c//d", "s3"))
      assert.are.equal("//", cpath("//", "s3"))
    end)

    it("can be switched off for a generic service", function()
      assert.are.equal("/a/./b/../c//d", cpath("/a/./b/../c//d", "service", { normalize = false }))
    end)
  end)

  describe("query canonicalization", function()
    it("sorts by encoded name, then by value", function()
      assert.are.equal("a=1&a=2&b=2&c=", cquery("b=2&a=2&a=1&c"))
      assert.are.equal("%E1%88%B4=1&Param=2&Param-3=3", cquery("Param-3=3&Param=2&\u{1234}=1"))
      assert.are.equal("A=2&~=1", cquery("%7E=1&A=2"), "decoded '~' is unreserved, sorts after 'A'")
    end)

    it("writes value-less parameters as name=", function()
      assert.are.equal("lifecycle=", cquery("lifecycle"))
      assert.are.equal("acl=&versionId=", cquery("versionId=&acl"))
    end)

    it("decodes then re-encodes canonically; '+' is a literal plus", function()
      assert.are.equal("a%20b=c%20d", cquery("a b=c%20d"))
      assert.are.equal("k=%2F%2B%3D", cquery("k=%2f+%3d"))
      assert.are.equal("x=%25zz", cquery("x=%zz"))
    end)

    it("ignores empty segments", function()
      assert.are.equal("a=1&b=", cquery("&&a=1&&b&"))
    end)

    it("accepts the query inside the path", function()
      assert.are.equal("a=1", lines(cr("/x?a=1"))[3])
      assert.are.equal("/x", lines(cr("/x?a=1"))[2])
    end)
  end)

  describe("header canonicalization", function()
    it("lower-cases names, trims values and folds inner white space", function()
      local block, signed = header_block({ { "My-Header", '  "a   b \t c"  ' }, { "X-EMPTY", "" } })
      assert.are.equal('host:example.amazonaws.com\nmy-header:"a b c"\nx-amz-date:' .. T .. "\nx-empty:", block)
      assert.are.equal("host;my-header;x-amz-date;x-empty", signed)
    end)

    it("joins duplicates with ',' in arrival order", function()
      local block = header_block({ { "B", "2" }, { "a", "z" }, { "b", "1" }, { "B", " 3 " } })
      assert.truthy(block:find("\nb:2,1,3\n", 1, true))
      assert.truthy(block:find("^a:z\n"))
    end)

    it("folds obsolete multi-line values into one line", function()
      local block = header_block({ { "X-Folded", "value1\n  value2\r\n\tvalue3" } })
      assert.truthy(block:find("\nx-folded:value1 value2 value3", 1, true))
    end)

    it("accepts a name -> value map as well as a list of pairs", function()
      local req = { method = "GET", path = "/", headers = { Host = "h", ["X-B"] = "2", ["x-a"] = 1 } }
      local got = signer.canonical_request(req, opts())
      assert.are.equal("GET\n/\n\nhost:h\nx-a:1\nx-amz-date:" .. T .. "\nx-b:2\n\nhost;x-a;x-amz-date;x-b\n" .. EMPTY, got)
    end)

    it("does not sign hop-by-hop headers nor ones the signer owns", function()
      local _, signed = header_block({ { "User-Agent", "x" }, { "Expect", "100-continue" }, { "Authorization", "old" },
        { "X-Amz-Date", "19990101T000000Z" }, { "Transfer-Encoding", "chunked" }, { "X-Amzn-Trace-Id", "t" },
        { "Connection", "close" } })
      assert.are.equal("host;x-amz-date", signed)
      assert.truthy(cr("/", nil, nil, nil, { { "X-Amz-Date", "19990101T000000Z" } }):find("x-amz-date:" .. T, 1, true))
    end)

    it("does not invent a Host header", function()
      local got = signer.sign({ method = "GET", path = "/" }, CREDS, opts())
      assert.are.equal("x-amz-date", got.signed_headers)
    end)
  end)

  describe("session token", function()
    local tcreds = { accessKeyId = CREDS.accessKeyId, secretAccessKey = CREDS.secretAccessKey, sessionToken = "tok/en+=" }
    local req = { method = "GET", path = "/", headers = { { "Host", "h" } } }

    it("is signed by default", function()
      local got = signer.sign(req, tcreds, opts())
      assert.are.equal("host;x-amz-date;x-amz-security-token", got.signed_headers)
      assert.truthy(got.canonical_request:find("\nx-amz-security-token:tok/en+=\n", 1, true))
      assert.are.equal("tok/en+=", got["X-Amz-Security-Token"])
      assert.are.equal("X-Amz-Security-Token", got.add_headers[1][1])
    end)

    it("is only appended with omit_session_token", function()
      local got = signer.sign(req, tcreds, opts(nil, { omit_session_token = true }))
      assert.are.equal("host;x-amz-date", got.signed_headers)
      assert.falsy(got.canonical_request:find("tok/en", 1, true))
      assert.are.equal("tok/en+=", got["X-Amz-Security-Token"])
      assert.are_not.equal(signer.sign(req, tcreds, opts()).signature, got.signature)
    end)

    it("goes into a presigned query, signed or appended", function()
      local signed = signer.sign(req, tcreds, opts(nil, { presign = 60 }))
      assert.truthy(signed.canonical_query:find("X-Amz-Security-Token=tok%2Fen%2B%3D", 1, true))
      local omitted = signer.sign(req, tcreds, opts(nil, { presign = 60, omit_session_token = true }))
      assert.falsy(omitted.canonical_query:find("Security", 1, true))
      assert.truthy(omitted.query:find("&X-Amz-Security-Token=tok%2Fen%2B%3D&X-Amz-Signature=", 1, true))
    end)
  end)

  describe("payload", function()
    local req = { method = "PUT", path = "/k", headers = { { "Host", "h" } }, body = "hello" }
    local HELLO = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

    it("hashes the body and signs x-amz-content-sha256 when sign_body (the default for s3)", function()
      local s3 = signer.sign(req, CREDS, opts("s3"))
      assert.are.equal(HELLO, s3["x-amz-content-sha256"])
      assert.are.equal("host;x-amz-content-sha256;x-amz-date", s3.signed_headers)
      local generic = signer.sign(req, CREDS, opts())
      assert.is_nil(generic["x-amz-content-sha256"])
      local l = lines(generic.canonical_request)
      assert.are.equal(HELLO, l[#l])
    end)

    it("uses a given payload hash or UNSIGNED-PAYLOAD as is", function()
      local r2 = { method = "PUT", path = "/k", headers = req.headers, body = "ignored", payload_hash = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" }
      assert.are.equal("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", signer.sign(r2, CREDS, opts("s3"))["x-amz-content-sha256"])
      local u = signer.sign(req, CREDS, opts("s3", { unsigned_payload = true }))
      assert.are.equal("UNSIGNED-PAYLOAD", u.payload_hash)
      assert.truthy(u.canonical_request:find("\nUNSIGNED%-PAYLOAD$"))
    end)
  end)

  describe("presigning", function()
    it("keeps the request's own query first and appends the auth parameters", function()
      local got = signer.sign({ method = "GET", path = "/o", query = "b=2&a=1", headers = { { "Host", "h" } } },
        CREDS, opts("s3", { presign = 900 }))
      assert.are.equal("b=2&a=1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request"
        .. "&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=900&X-Amz-Signature=" .. got.signature, got.query)
      assert.are.equal("/o?" .. got.query, got.url)
      assert.truthy(got.canonical_query:find("^X%-Amz%-Algorithm=.*&X%-Amz%-SignedHeaders=host&a=1&b=2$"), "byte order: upper case first")
      assert.is_nil(got.Authorization)
    end)
  end)

  describe("time", function()
    it("formats epoch seconds and parses both timestamp spellings", function()
      assert.are.equal(T, (signer.amz_date(1440938160)))
      assert.are.equal(1440938160, select(2, signer.amz_date("2015-08-30T12:36:00Z")))
      assert.are.equal(1440938160, select(2, signer.amz_date(T)))
      assert.are.equal("20000229T235959Z", (signer.amz_date(951868799)))
      assert.are.equal("19691231T235959Z", (signer.amz_date(-1)))
      assert.are.equal(T, (signer.amz_date(1440938160.75)))
    end)

    it("signs the same with any spelling of the time", function()
      local req = { method = "GET", path = "/", headers = { { "Host", "h" } } }
      local a = signer.sign(req, CREDS, opts(nil, { time = 1440938160 })).signature
      assert.are.equal(a, signer.sign(req, CREDS, opts(nil, { time = "2015-08-30T12:36:00Z" })).signature)
      assert.are_not.equal(a, signer.sign(req, CREDS, opts(nil, { time = 1440938161 })).signature)
    end)
  end)

  describe("signing key", function()
    it("matches the derivation example of the AWS documentation", function()
      local raw, hex = signer.signing_key(CREDS.secretAccessKey, "20150830", "us-east-1", "iam")
      assert.are.equal("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9", hex)
      assert.are.equal(32, #raw)
      assert.are.equal(hex, (raw:gsub(".", function(c) return ("%02x"):format(c:byte()) end)))
    end)

    it("is cached: the same inputs hit, a new date, region, service or secret misses", function()
      local k1 = select(2, signer.signing_key("secret-cache", "20240101", "eu-west-1", "sqs"))
      local h0, m0 = signer.cache_stats()
      assert.are.equal(k1, select(2, signer.signing_key("secret-cache", "20240101", "eu-west-1", "sqs")))
      local h1, m1 = signer.cache_stats()
      assert.are.same({ h0 + 1, m0 }, { h1, m1 })
      local others = {
        { "secret-cache", "20240102", "eu-west-1", "sqs" }, { "secret-cache", "20240101", "eu-west-2", "sqs" },
        { "secret-cache", "20240101", "eu-west-1", "sns" }, { "secret-cachf", "20240101", "eu-west-1", "sqs" },
      }
      for i, o in ipairs(others) do
        local k = select(2, signer.signing_key(table.unpack(o)))
        assert.are_not.equal(k1, k)
        local h, m = signer.cache_stats()
        assert.are.same({ h1, m1 + i }, { h, m }, "miss for " .. table.concat(o, "/"))
      end
    end)

    it("evicts the least recently used entry beyond its capacity", function()
      signer.signing_key("lru", "20240101", "r0", "s")
      for i = 1, 8 do signer.signing_key("lru", "20240101", "r" .. i, "s") end
      local _, m = signer.cache_stats()
      signer.signing_key("lru", "20240101", "r0", "s")
      local _, m2 = signer.cache_stats()
      assert.are.equal(m + 1, m2)
    end)

    it("still works for secrets too long to cache", function()
      local long = string.rep("k", 300)
      local a = select(2, signer.signing_key(long, "20240101", "r", "s"))
      assert.are.equal(a, select(2, signer.signing_key(long, "20240101", "r", "s")))
      assert.are.equal(64, #a)
    end)
  end)

  describe("separate steps", function()
    it("string_to_sign and signature reproduce sign()", function()
      local req = { method = "POST", path = "/", headers = { { "Host", "h" } }, body = "x" }
      local whole = signer.sign(req, CREDS, opts())
      local sts = signer.string_to_sign(signer.canonical_request(req, opts()), opts())
      assert.are.equal(whole.string_to_sign, sts)
      assert.are.equal(whole.signature, signer.signature(sts, CREDS.secretAccessKey, opts()))
      assert.are.equal(whole.signature, signer.signature(sts, CREDS, opts()))
    end)

    it("chunk_signature chains as documented", function()
      local o = opts("s3")
      local prev = string.rep("a", 64)
      local chunk = string.rep("z", 100)
      local chunk_hash = signer.sign({ method = "PUT", path = "/", body = chunk }, CREDS, o).payload_hash
      local sts = table.concat({ "AWS4-HMAC-SHA256-PAYLOAD", T, "20150830/us-east-1/s3/aws4_request", prev, EMPTY, chunk_hash }, "\n")
      assert.are.equal(signer.signature(sts, CREDS, o), signer.chunk_signature(prev, chunk, o, CREDS))
      assert.are_not.equal(signer.chunk_signature(prev, chunk, o, CREDS), signer.chunk_signature(prev, chunk .. "z", o, CREDS))
    end)
  end)

  describe("bad input", function()
    local req = { method = "GET", path = "/" }
    local cases = {
      { "opts.region must be a string", function() signer.sign(req, CREDS, { time = T, region = 5, service = "s" }) end },
      { "opts.service must be a string", function() signer.sign(req, CREDS, { time = T, region = "r" }) end },
      { "opts must be a table", function() signer.sign(req, CREDS, nil) end },
      { "creds must be a table", function() signer.sign(req, "nope", opts()) end },
      { "creds.secretAccessKey must be a string", function() signer.sign(req, { accessKeyId = "a" }, opts()) end },
      { "creds.sessionToken must be a string", function() signer.sign(req, { accessKeyId = "a", secretAccessKey = "s", sessionToken = true }, opts()) end },
      { "request.method must be a string", function() signer.sign({ path = "/" }, CREDS, opts()) end },
      { "request must be a table", function() signer.sign(nil, CREDS, opts()) end },
      { "request.headers[2] must be a {name, value} pair of strings", function()
        signer.sign({ method = "GET", headers = { { "a", "b" }, { "c" } } }, CREDS, opts()) end },
      { 'request.headers["X"] must be a string', function()
        signer.sign({ method = "GET", headers = { X = {} } }, CREDS, opts()) end },
      { "opts.time must be epoch seconds", function() signer.sign(req, CREDS, opts(nil, { time = "yesterday" })) end },
      { "opts.time is out of range", function() signer.sign(req, CREDS, opts(nil, { time = 1e300 })) end },
      { "opts.presign must be a whole number", function() signer.sign(req, CREDS, opts(nil, { presign = -5 })) end },
      { "opts.normalize must be a boolean", function() signer.sign(req, CREDS, opts(nil, { normalize = "yes" })) end },
      { "prev_signature must be 64 lower-case hex", function() signer.chunk_signature("abc", "", opts(), CREDS) end },
      { "signer.signing_key: region must be a string", function() signer.signing_key("s", "20240101", nil, "x") end },
      { "creds (3rd argument) are needed to presign", function() signer.canonical_request(req, opts(nil, { presign = 5 })) end },
    }
    for _, c in ipairs(cases) do
      it("reports: " .. c[1], function()
        local ok, err = pcall(c[2])
        assert.is_false(ok)
        assert.truthy(tostring(err):find(c[1], 1, true), tostring(err))
        assert.truthy(tostring(err):find("^signer%.[%w_]+: ") or tostring(err):find("^[^ ]+: signer%.[%w_]+: "), tostring(err))
      end)
    end

    it("reads proxy tables whose fields come from __index, even when GC runs meanwhile", function()
      local function proxy(t)
        return setmetatable({}, { __index = function(_, k)
          collectgarbage()
          local v = t[k]
          return type(v) == "string" and (v .. "#"):sub(1, -2) or v -- a fresh, unanchored copy
        end })
      end
      -- longer than 40 bytes: Lua interns short strings, so only long ones are fresh objects
      local long = string.rep("v", 64)
      local request = { method = "PUT", path = "/a b/" .. long, query = "x=" .. long, body = long }
      local creds = { accessKeyId = "AKID" .. long, secretAccessKey = "secret" .. long, sessionToken = "tok" .. long }
      local o = opts(nil, { presign = 60, region = "region-" .. long })
      local plain = signer.sign(request, creds, o)
      local proxied = signer.sign(proxy(request), proxy(creds), proxy(o))
      assert.are.equal(plain.signature, proxied.signature)
      assert.are.equal(plain.url, proxied.url)
    end)

    it("keeps working after many failed calls (no state left behind)", function()
      for _ = 1, 1000 do pcall(signer.sign, { method = "GET", headers = { { "a", "b" }, { "c" } } }, CREDS, opts()) end
      assert.are.equal(64, #signer.sign({ method = "GET", path = "/" }, CREDS, opts()).signature)
    end)
  end)
end)

-- An independent implementation: botocore (Debian python3-botocore) with its clock frozen.
describe("signer against botocore", function()
  local PY = require("support.botocore").python(pending)
  if not PY then return end

  local script = [[
import datetime, json, sys
from unittest import mock
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = json.loads(sys.stdin.read())
out = []
for case in spec:
    creds = Credentials(case["access_key"], case["secret"], case.get("token") or None)
    req = AWSRequest(method=case["method"], url=case["url"], data=case["body"].encode(), headers=dict(case["headers"]))
    kw = {"expires": case["expires"]} if case["expires"] else {}
    auth = getattr(botocore.auth, case["auth"])(creds, case["service"], case["region"], **kw)
    seen = {}
    def spy(name, method):
        def wrapped(*args):
            seen[name] = method(*args)
            return seen[name]
        setattr(auth, name, wrapped)
    for name in ("canonical_request", "string_to_sign", "signature"):
        spy(name, getattr(auth, name))
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = datetime.datetime(2015, 8, 30, 12, 36, 0)
        auth.add_auth(req)
    out.append({"canonical_request": seen["canonical_request"], "string_to_sign": seen["string_to_sign"],
                "signature": seen["signature"], "authorization": req.headers.get("Authorization", ""), "url": req.url})
print(json.dumps(out))
]]

  local function q(s) return '"' .. s:gsub('[%c"\\]', function(c) return ("\\u%04x"):format(c:byte()) end) .. '"' end
  local function encode(v)
    if type(v) == "number" then return tostring(v) end
    if type(v) == "string" then return q(v) end
    local parts = {}
    if v[1] ~= nil or next(v) == nil then
      for _, x in ipairs(v) do parts[#parts + 1] = encode(x) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    for k, x in pairs(v) do parts[#parts + 1] = q(k) .. ":" .. encode(x) end
    return "{" .. table.concat(parts, ",") .. "}"
  end

  local token = "FQoGZXIvYXdzE+/token=="
  local cases = {
    { name = "generic service, encoded path, query and session token", auth = "SigV4Auth", service = "lambda", method = "POST",
      url = "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123%3Afunction%3Af/invocations?Qualifier=%24LATEST&b=x%20y",
      headers = { ["X-Amz-Invocation-Type"] = "Event", ["Content-Type"] = "application/json", ["X-Custom"] = "  a   b " },
      body = '{"a":1}', token = token },
    { name = "S3 PUT with x-amz-content-sha256", auth = "S3SigV4Auth", service = "s3", method = "PUT",
      url = "https://bucket.s3.eu-west-1.amazonaws.com/photos/my%20photo%24.jpg?tagging",
      headers = { ["Content-Type"] = "image/jpeg", ["x-amz-meta-note"] = "caf\u{e9}", ["Content-Length"] = "5" },
      body = "hello", region = "eu-west-1" },
    { name = "S3 presigned GET with a token", auth = "S3SigV4QueryAuth", service = "s3", method = "GET",
      url = "https://bucket.s3.amazonaws.com/dir/a%20b.txt?versionId=3&response-content-type=text%2Fplain",
      headers = {}, body = "", expires = 900, token = token },
  }

  local results
  setup(function()
    local input = {}
    for i, c in ipairs(cases) do
      input[i] = { access_key = CREDS.accessKeyId, secret = CREDS.secretAccessKey, token = c.token or "",
        region = c.region or "us-east-1", auth = c.auth, service = c.service, method = c.method, url = c.url,
        headers = c.headers, body = c.body, expires = c.expires or 0 }
    end
    local py, data = os.tmpname(), os.tmpname()
    local f = assert(io.open(py, "w")); f:write(script); f:close()
    f = assert(io.open(data, "w")); f:write(encode(input)); f:close()
    local p = assert(io.popen(PY .. " " .. py .. " < " .. data))
    local out = p:read("a")
    p:close()
    os.remove(py)
    os.remove(data)
    results = support.json.decode(out)
  end)

  local function params(query)
    local t = {}
    for kv in query:gmatch("[^&]+") do t[#t + 1] = kv end
    table.sort(t)
    return t
  end

  for i, c in ipairs(cases) do
    it(c.name, function()
      local want = assert(results[i], "botocore produced no result")
      local host, path, query = support.split_url(c.url)
      local headers = { { "Host", host } }
      for k, v in pairs(c.headers) do headers[#headers + 1] = { k, v } end
      local got = signer.sign({ method = c.method, path = path, query = query, headers = headers, body = c.body },
        { accessKeyId = CREDS.accessKeyId, secretAccessKey = CREDS.secretAccessKey, sessionToken = c.token },
        { time = T, region = c.region or "us-east-1", service = c.service, presign = c.expires,
          unsigned_payload = c.expires and true or nil })
      assert.are.equal(want.canonical_request, got.canonical_request)
      assert.are.equal(want.string_to_sign, got.string_to_sign)
      assert.are.equal(want.signature, got.signature)
      if c.expires then
        local _, _, wq = support.split_url(want.url)
        assert.are.same(params(wq), params(got.query))
      else
        assert.are.equal(want.authorization, got.Authorization)
      end
    end)
  end
end)
