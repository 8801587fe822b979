-- The S3 region redirect moves a request on an AWS endpoint to the bucket's regional endpoint
-- (customizations/s3.lua); the wire specs are in spec/integration/s3_behaviours_spec.lua.
local AWS = require "awspromise"
local fake = require "support.fake_transport"

describe("S3 region redirect on AWS endpoints", function()
  before_each(fake.install)
  after_each(fake.restore)

  local function s3()
    return AWS.S3({region = "us-east-1", credentials = {accessKeyId = "AKID", secretAccessKey = "SECRET"},
      retryDelayOptions = {base = 1}})
  end

  it("retries at s3.<region>.amazonaws.com and goes there first for that bucket afterwards", function()
    fake.replies[1] = {statusCode = 301, headers = {["x-amz-bucket-region"] = "eu-west-1"},
      body = "<Error><Code>PermanentRedirect</Code><Message>m</Message></Error>"}
    local client = s3()
    local state = fake.await(client:getObject({Bucket = "mybucket", Key = "k"}))
    assert.equal("fulfilled", state)
    assert.equal("https://mybucket.s3.amazonaws.com/k", fake.sent[1].url)
    assert.equal("https://mybucket.s3.eu-west-1.amazonaws.com/k", fake.sent[2].url)
    assert.equal("mybucket.s3.eu-west-1.amazonaws.com", fake.sent[2].hostname)
    fake.await(client:getObject({Bucket = "mybucket", Key = "k2"}))
    assert.equal("https://mybucket.s3.eu-west-1.amazonaws.com/k2", fake.sent[3].url)
    fake.await(s3():getObject({Bucket = "mybucket", Key = "k3"}))
    assert.equal("https://mybucket.s3.amazonaws.com/k3", fake.sent[4].url, "the cache is the client's")
  end)

  it("an error that names no region is not retried", function()
    fake.replies[1] = {statusCode = 301, headers = {}, body = "<Error><Code>PermanentRedirect</Code><Message>m</Message></Error>"}
    local state, err = fake.await(s3():getObject({Bucket = "mybucket", Key = "k"}))
    assert.equal("rejected", state)
    assert.equal("PermanentRedirect", err.code)
    assert.equal(1, #fake.sent)
  end)
end)

describe("S3 region redirect endpoints", function()
  before_each(fake.install)
  after_each(fake.restore)

  local function moved(options, bucket)
    fake.replies[1] = {statusCode = 301, headers = {["x-amz-bucket-region"] = "eu-west-1"}, body = ""}
    options.credentials = {accessKeyId = "AKID", secretAccessKey = "SECRET"}
    options.retryDelayOptions = {base = 1}
    fake.await(AWS.S3(options):headBucket({Bucket = bucket}))
    return fake.sent[#fake.sent].url
  end

  it("a regional endpoint moves; accelerate and custom endpoints stay", function()
    assert.equal("https://bk1.s3.eu-west-1.amazonaws.com/", moved({region = "us-west-2"}, "bk1"))
    assert.equal("https://s3.eu-west-1.amazonaws.com/b.dotted", moved({region = "us-west-2"}, "b.dotted"))
    assert.equal("https://bk2.s3-accelerate.amazonaws.com/", moved({region = "us-west-2", useAccelerateEndpoint = true}, "bk2"))
    assert.equal("http://127.0.0.1:9/b3", moved({region = "us-west-2", endpoint = "http://127.0.0.1:9"}, "b3"))
  end)
end)
