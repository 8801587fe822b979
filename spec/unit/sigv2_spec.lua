-- Signature Version 2 (signer.sign_v2, csrc/sign/sigv2.c) checked against botocore's own
-- SigV2Auth. What the engine and the clients send: spec/integration/auth_spec.lua.
local core = require "awspromise.core"

local signer = core.signer

local CREDS = {accessKeyId = "AKIDEXAMPLE", secretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
local T = 1440938160 -- 2015-08-30T12:36:00Z

local function decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- name -> decoded value of a form
local function form_of(text)
  local t = {}
  for pair in text:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    t[decode(k)] = decode(v)
  end
  return t
end

describe("Signature Version 2", function()
  it("adds the auth parameters, sorts and encodes the form, and signs it last", function()
    local got = signer.sign_v2({method = "POST", host = "SDB.amazonaws.com", path = "/",
      params = "Version=2009-04-15&Action=ListDomains&Name=a%20b"}, CREDS, {time = T})
    assert.equal("2015-08-30T12:36:00Z", got.timestamp)
    assert.equal("POST\nsdb.amazonaws.com\n/\nAWSAccessKeyId=AKIDEXAMPLE&Action=ListDomains&Name=a%20b" ..
      "&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2015-08-30T12%3A36%3A00Z&Version=2009-04-15",
      got.string_to_sign)
    assert.equal(44, #got.signature)
    local canonical = got.string_to_sign:match("[^\n]*$")
    assert.equal(canonical .. "&Signature=" .. got.signature:gsub("[+/=]", function(c)
      return ("%%%02X"):format(c:byte()) end), got.signed_params)
    assert.equal(got.signature, form_of(got.signed_params).Signature)
  end)

  it("signs the session token as SecurityToken, and the same input the same way", function()
    local request = {method = "GET", host = "sdb.amazonaws.com", path = "/", params = "Action=ListDomains"}
    local with = signer.sign_v2(request, {accessKeyId = "A", secretAccessKey = "S", sessionToken = "tok+/="}, {time = T})
    assert.equal("tok+/=", form_of(with.signed_params).SecurityToken)
    local without = signer.sign_v2(request, {accessKeyId = "A", secretAccessKey = "S"}, {time = T})
    assert.is_nil(form_of(without.signed_params).SecurityToken)
    assert.are_not.equal(with.signature, without.signature)
    assert.equal(without.signature, signer.sign_v2(request, {accessKeyId = "A", secretAccessKey = "S"}, {time = T}).signature)
  end)

  it("names what is missing", function()
    assert.has_error(function() signer.sign_v2({method = "GET", path = "/"}, CREDS) end,
      "signer.sign_v2: request.host must be a string")
    assert.has_error(function() signer.sign_v2({method = "GET", host = "h"}, {accessKeyId = "A"}) end,
      "signer.sign_v2: creds.secretAccessKey must be a string")
  end)
end)

-- An independent implementation: botocore (Debian python3-botocore).
describe("Signature Version 2 against botocore", function()
  local PY = require("support.botocore").python(pending)
  if not PY then return end

  -- botocore computes the signature over the very parameters we sent (our Signature removed):
  -- each line of input is "METHOD URL SECRET FORM", each line of output "QS SIGNATURE".
  local script = [[
import sys, urllib.parse
from botocore.auth import SigV2Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
for line in sys.stdin.read().splitlines():
    method, url, secret, form = line.split(" ")
    params = dict(urllib.parse.parse_qsl(form, keep_blank_values=True))
    params.pop("Signature")
    creds = Credentials(params["AWSAccessKeyId"], urllib.parse.unquote(secret), params.get("SecurityToken"))
    qs, signature = SigV2Auth(creds).calc_signature(AWSRequest(method=method, url=url), params)
    print(qs, signature)
]]

  local cases = {
    {name = "a SimpleDB form with UTF-8, reserved characters and an empty value", method = "POST",
      url = "https://sdb.amazonaws.com/", host = "sdb.amazonaws.com", path = "/",
      params = "Action=PutAttributes&DomainName=d&ItemName=caf%C3%A9%20%2A~&Attribute.1.Name=a%2Fb&Attribute.1.Value=&Version=2009-04-15"},
    {name = "a session token and a host with a port", method = "POST", url = "http://127.0.0.1:8443/",
      host = "127.0.0.1:8443", path = "/", params = "Action=ListDomains&MaxNumberOfDomains=5", token = "FQoG+/token=="},
    {name = "a GET with a path", method = "GET", url = "https://example.amazonaws.com/some/path",
      host = "example.amazonaws.com", path = "/some/path", params = "Action=Describe&b=2&a=1"},
  }

  local results = {}
  setup(function()
    local lines = {}
    local ours = {}
    for i, c in ipairs(cases) do
      ours[i] = signer.sign_v2({method = c.method, host = c.host, path = c.path, params = c.params},
        {accessKeyId = CREDS.accessKeyId, secretAccessKey = CREDS.secretAccessKey, sessionToken = c.token}, {time = T})
      lines[i] = table.concat({c.method, c.url, signer.uri_encode(CREDS.secretAccessKey), ours[i].signed_params}, " ")
    end
    local py, data = os.tmpname(), os.tmpname()
    local f = assert(io.open(py, "w")); f:write(script); f:close()
    f = assert(io.open(data, "w")); f:write(table.concat(lines, "\n"), "\n"); f:close()
    local p = assert(io.popen(PY .. " " .. py .. " < " .. data))
    local i = 0
    for line in p:lines() do
      i = i + 1
      local qs, signature = line:match("^(%S*) (%S+)$")
      results[i] = {qs = qs, signature = signature, ours = ours[i]}
    end
    p:close()
    os.remove(py)
    os.remove(data)
  end)

  for i, c in ipairs(cases) do
    it(c.name, function()
      local r = assert(results[i], "botocore produced no result")
      assert.equal(r.qs, r.ours.string_to_sign:match("[^\n]*$"))
      assert.equal(r.signature, r.ours.signature)
    end)
  end
end)
