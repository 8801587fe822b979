-- S3 behaviours of JS v2 on the wire (customizations/s3.lua): the region redirect, createBucket's
-- LocationConstraint and Expect: 100-continue against the recording endpoint
-- (spec/support/fault_server.py /record), SSE-C keys over https against s3rver behind the front.
local AWS = require "awspromise"
local support = require "support.loop"
local local_aws = require "support.local_aws"

local recorder

-- An S3 client on the recording endpoint of key.
local function client(key, extra)
  local options = {region = "us-east-1", endpoint = recorder.endpoint(key), s3ForcePathStyle = true,
    credentials = {accessKeyId = "AKIDEXAMPLE", secretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
    retryDelayOptions = {base = 1}}
  for k, v in pairs(extra or {}) do options[k] = v end
  return AWS.S3(options)
end

local function scope_region(request)
  return request.headers.authorization:match("Credential=[^/]+/%d+/([^/]+)/s3/aws4_request")
end

local function redirect_reply(status, code, region, with_header)
  local body = code and ("<Error><Code>%s</Code><Message>elsewhere</Message><Region>%s</Region></Error>"):format(code, region) or ""
  local headers = {["Content-Type"] = "application/xml"}
  if with_header then headers["x-amz-bucket-region"] = region end
  return {status = status, headers = headers, body = body}
end

local OK = {status = 200, headers = {["Content-Type"] = "application/xml"}, body = ""}

setup(function() recorder = require("support.recorder").start() end)
teardown(function() recorder.stop() end)

describe("S3 region redirect", function()
  it("a 301 PermanentRedirect re-signs for the bucket's region, retries once and caches the region", function()
    local key = recorder.key("redirect")
    recorder.reply(key, {sequence = {redirect_reply(301, "PermanentRedirect", "eu-west-1", true), OK}})
    local s3 = client(key)
    s3:putObject({Bucket = "far", Key = "a", Body = "x"}):promise():await()
    local sent = recorder.requests(key)
    assert.equal(2, #sent)
    assert.equal("us-east-1", scope_region(sent[1]))
    assert.equal("eu-west-1", scope_region(sent[2]))
    s3:putObject({Bucket = "far", Key = "b", Body = "y"}):promise():await()
    sent = recorder.requests(key)
    assert.equal(3, #sent)
    assert.equal("eu-west-1", scope_region(sent[3]), "the bucket's region is cached")
    s3:putObject({Bucket = "near", Key = "c", Body = "z"}):promise():await()
    assert.equal("us-east-1", scope_region(recorder.last(key)), "another bucket keeps the client's region")
  end)

  it("a 400 AuthorizationHeaderMalformed takes the region from the error body", function()
    local key = recorder.key("malformed")
    recorder.reply(key, {sequence = {redirect_reply(400, "AuthorizationHeaderMalformed", "ap-south-1", false), OK}})
    client(key):getObject({Bucket = "bkt", Key = "k"}):promise():await()
    local sent = recorder.requests(key)
    assert.equal(2, #sent)
    assert.equal("ap-south-1", scope_region(sent[2]))
  end)

  it("a HEAD 301 without a body redirects by its x-amz-bucket-region header", function()
    local key = recorder.key("head")
    recorder.reply(key, {sequence = {redirect_reply(301, nil, "us-west-2", true), OK}})
    client(key):headBucket({Bucket = "bkt"}):promise():await()
    local sent = recorder.requests(key)
    assert.equal(2, #sent)
    assert.equal("HEAD", sent[2].method)
    assert.equal("us-west-2", scope_region(sent[2]))
  end)

  it("redirects once only: a second redirect is the request's error", function()
    local key = recorder.key("twice")
    recorder.reply(key, {sequence = {redirect_reply(301, "PermanentRedirect", "eu-west-1", true),
      redirect_reply(301, "PermanentRedirect", "eu-west-2", true), OK}})
    local state, err = support.settle(client(key):getObject({Bucket = "bkt", Key = "k"}):promise())
    assert.equal("rejected", state)
    assert.equal("PermanentRedirect", err.code)
    assert.equal(2, #recorder.requests(key))
  end)
end)

describe("S3 request shaping", function()
  it("createBucket outside us-east-1 sends the client's region as LocationConstraint", function()
    local key = recorder.key("create")
    recorder.reply(key, OK)
    client(key, {region = "eu-central-1"}):createBucket({Bucket = "b1"}):promise():await()
    assert.truthy(recorder.last(key).body:find("<LocationConstraint>eu%-central%-1</LocationConstraint>"),
      recorder.last(key).body)
    client(key, {region = "eu-central-1"}):createBucket({Bucket = "b2",
      CreateBucketConfiguration = {LocationConstraint = "eu-west-3"}}):promise():await()
    assert.truthy(recorder.last(key).body:find("<LocationConstraint>eu%-west%-3</LocationConstraint>"))
    client(key):createBucket({Bucket = "b3"}):promise():await()
    assert.equal("", recorder.last(key).body)
  end)

  it("a body over 1 MiB is sent with Expect: 100-continue, a smaller one without", function()
    local key = recorder.key("expect")
    recorder.reply(key, OK)
    local s3 = client(key)
    local big = ("e"):rep(1024 * 1024 + 1)
    s3:putObject({Bucket = "b", Key = "big", Body = big}):promise():await()
    local sent = recorder.last(key)
    assert.equal("100-continue", sent.headers.expect)
    assert.equal(#big, #sent.body)
    s3:putObject({Bucket = "b", Key = "small", Body = "s"}):promise():await()
    assert.is_nil(recorder.last(key).headers.expect)
  end)

  it("SSE-C keys are refused over plain http before anything is sent", function()
    local key = recorder.key("ssec-http")
    local state, err = support.settle(client(key):putObject({Bucket = "b", Key = "k", Body = "x",
      SSECustomerAlgorithm = "AES256", SSECustomerKey = ("k"):rep(32)}):promise())
    assert.equal("rejected", state)
    assert.equal("ConfigError", err.code)
    assert.truthy(err.message:find("Cannot send SSE keys over HTTP", 1, true))
    assert.same({}, recorder.requests(key))
  end)

  it("an access-point or Outposts ARN as Bucket is refused with a clear error", function()
    local key = recorder.key("arn")
    local state, err = support.settle(client(key):getObject({Bucket = "arn:aws:s3:us-west-2:123456789012:accesspoint/ap",
      Key = "k"}):promise())
    assert.equal("rejected", state)
    assert.equal("InvalidParameter", err.code)
    assert.truthy(err.message:find("access-point ARN", 1, true), err.message)
    local outpost = "arn:aws:s3-outposts:us-west-2:123456789012:outpost/op-01/accesspoint/ap"
    local _, outposts_err = support.settle(client(key):getObject({Bucket = outpost, Key = "k"}):promise())
    assert.truthy(outposts_err.message:find("Outposts ARN", 1, true), outposts_err.message)
    assert.same({}, recorder.requests(key))
  end)
end)

describe("S3 SSE-C over https (s3rver behind the front)", function()
  it("sends the key base64-encoded with its MD5, signed as botocore checks", function()
    local s3 = AWS.S3(local_aws.get().options("s3", {https = true}))
    local bucket = "ssec-" .. os.time()
    s3:createBucket({Bucket = bucket}):promise():await()
    local request = s3:putObject({Bucket = bucket, Key = "k", Body = "secret",
      SSECustomerAlgorithm = "AES256", SSECustomerKey = ("K"):rep(32)})
    request:promise():await()
    local headers = {}
    for name, value in pairs(request.httpRequest.headers) do headers[name:lower()] = value end
    local core = require "awspromise.core"
    assert.equal(core.crypto.base64_encode(("K"):rep(32)), headers["x-amz-server-side-encryption-customer-key"])
    assert.equal(core.crypto.base64_encode(core.crypto.md5(("K"):rep(32))),
      headers["x-amz-server-side-encryption-customer-key-md5"])
  end)
end)
