-- getSignedUrl / getSignedUrlPromise / createPresignedPost without a network: what is signed,
-- what is hoisted into the query, the limits, and the signer's S3 presign default.
local AWS = require "awspromise"
local core = require "awspromise.core"
local signer = require "awspromise.signer"

local CREDS = {accessKeyId = "AKIDEXAMPLE", secretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  sessionToken = "TOKEN/1"}

local function query_of(url)
  local q = {}
  for pair in url:match("%?(.*)$"):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    q[k] = v
  end
  return q
end

describe("presigning", function()
  local s3 = AWS.S3 {region = "eu-west-1", credentials = CREDS}

  it("the signer presigns S3 with UNSIGNED-PAYLOAD, other services with the body's hash", function()
    local req = {method = "PUT", path = "/b/k", headers = {{"Host", "h"}}}
    local opts = {region = "eu-west-1", service = "s3", presign = 60, time = 1440938160}
    assert.equal("UNSIGNED-PAYLOAD", signer.sign(req, CREDS, opts).payload_hash)
    opts.service = "sqs"
    assert.equal(core.crypto.sha256("", "hex"), signer.sign(req, CREDS, opts).payload_hash)
  end)

  it("hoists x-amz-* headers into the signed query, keeps SSE-C and Content-Type as signed headers", function()
    local url = s3:getSignedUrl("putObject", {Bucket = "my-bucket", Key = "a b.txt", ACL = "private",
      Metadata = {Owner = "me"}, ContentType = "text/plain", SSECustomerAlgorithm = "AES256",
      SSECustomerKey = "0123456789abcdef0123456789abcdef", Expires = 120})
    assert.matches("^https://my%-bucket%.s3%.eu%-west%-1%.amazonaws%.com/a%%20b%.txt%?", url)
    local q = query_of(url)
    assert.equal("private", q["x-amz-acl"])
    assert.equal("me", q["x-amz-meta-owner"])
    assert.equal("120", q["X-Amz-Expires"])
    assert.equal("TOKEN%2F1", q["X-Amz-Security-Token"])
    assert.is_nil(q["x-amz-server-side-encryption-customer-algorithm"])
    assert.equal("content-type%3Bhost%3Bx-amz-server-side-encryption-customer-algorithm%3B"
      .. "x-amz-server-side-encryption-customer-key", q["X-Amz-SignedHeaders"])
  end)

  it("accepts the operation's JS name or its model name, and refuses an unknown one", function()
    local a = s3:getSignedUrl("getObject", {Bucket = "bkt", Key = "k"})
    local b = s3:getSignedUrl("GetObject", {Bucket = "bkt", Key = "k"})
    assert.equal(a:gsub("X%-Amz%-Signature=%x+", ""), (b:gsub("X%-Amz%-Signature=%x+", "")))
    local ok, err = pcall(s3.getSignedUrl, s3, "fetchObject", {})
    assert.is_false(ok)
    assert.equal("InvalidParameter", err.code)
  end)

  it("defaults Expires to 900 and refuses more than 7 days or a fraction", function()
    assert.equal("900", query_of(s3:getSignedUrl("getObject", {Bucket = "bkt", Key = "k"}))["X-Amz-Expires"])
    assert.equal("604800", query_of(s3:getSignedUrl("getObject", {Bucket = "bkt", Key = "k", Expires = 604800}))
      ["X-Amz-Expires"])
    for _, bad in ipairs {{604801, "InvalidExpiryTime"}, {1.5, "InvalidParameterType"}, {0, "InvalidParameter"}} do
      local ok, err = pcall(s3.getSignedUrl, s3, "getObject", {Bucket = "bkt", Key = "k", Expires = bad[1]})
      assert.is_false(ok)
      assert.equal(bad[2], err.code)
    end
  end)

  it("turns a query service's form body into the query of a GET", function()
    local ec2 = AWS.EC2 {region = "us-west-2", credentials = CREDS}
    local url = ec2:getSignedUrl("describeInstances", {InstanceIds = {"i-1"}})
    local q = query_of(url)
    assert.equal("DescribeInstances", q.Action)
    assert.equal("i-1", q["InstanceId.1"])
    assert.equal("host", q["X-Amz-SignedHeaders"])
  end)

  it("the promise and callback forms answer through the loop", function()
    local client = AWS.S3 {region = "eu-west-1", credentials = {accessKeyId = "AKIDLATER", secretAccessKey = "later"}}
    local url = client:getSignedUrlPromise("getObject", {Bucket = "bkt", Key = "k"}):await()
    assert.matches("AKIDLATER", url)
    local got
    client:getSignedUrl("getObject", {Bucket = "bkt", Key = "k"}, function(err, u) got = {err, u} end)
    AWS.run()
    assert.is_nil(got[1])
    assert.matches("X%-Amz%-Signature=%x+$", got[2])
  end)

  it("createPresignedPost signs a base64 JSON policy that covers every field", function()
    local post = s3:createPresignedPost {Bucket = "forms", Fields = {key = "up/${filename}"},
      Conditions = {{"content-length-range", 0, 10}}, Expires = 60}
    assert.equal("https://forms.s3.eu-west-1.amazonaws.com", post.url)
    local f = post.fields
    local policy = core.json_decode(core.crypto.base64_decode(f.Policy))
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.000Z$", policy.expiration)
    local covered = {}
    for _, c in ipairs(policy.conditions) do
      if c[1] == nil then for k, v in pairs(c) do covered[k] = v end end
    end
    for _, name in ipairs {"bucket", "key", "X-Amz-Date", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Security-Token"} do
      assert.equal(f[name], covered[name], name)
    end
    assert.same({"content-length-range", 0, 10}, policy.conditions[1])
    local date = f["X-Amz-Date"]
    assert.equal("AKIDEXAMPLE/" .. date:sub(1, 8) .. "/eu-west-1/s3/aws4_request", f["X-Amz-Credential"])
    assert.equal(signer.signature(f.Policy, CREDS, {region = "eu-west-1", service = "s3", time = date}),
      f["X-Amz-Signature"])
    local ok, err = pcall(s3.createPresignedPost, s3, {Fields = {}})
    assert.is_false(ok)
    assert.matches("requires a Bucket", err.message)
  end)
end)
