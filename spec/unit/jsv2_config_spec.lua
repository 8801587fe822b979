-- Every key of JavaScript v2's AWS.Config honoured, honoured differently or refused (config_keys.lua),
-- with a stand-in transport (core.http replaced) that records each request and plays a reply.
local AWS = require "awspromise"
local core = require "awspromise.core"
local config_keys = require "awspromise.config_keys"

local fake = require "support.fake_transport"

before_each(fake.install)
after_each(fake.restore)

local CREDS = {accessKeyId = "AKID", secretAccessKey = "SECRET"}

local await = fake.await

local function config_error(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok)
  assert.equal("ConfigError", err.code)
  return err.message
end

describe("AWS.config.update", function()
  after_each(function() AWS.config.region, AWS.config.maxRetries = nil, nil end)

  it("takes the dot call as well as the colon call", function()
    AWS.config.update({region = "eu-north-1"})
    assert.equal("eu-north-1", AWS.config.region)
    AWS.config:update({maxRetries = 2})
    assert.equal(2, AWS.config.maxRetries)
  end)

  it("refuses an unknown key unless allowUnknownKeys, and takes service names", function()
    assert.matches("unknown configuration key 'maxRetry'", config_error(AWS.config.update, {maxRetry = 1}))
    AWS.config.update({myOwnKey = 1}, true)
    assert.equal(1, AWS.config.myOwnKey)
    AWS.config.myOwnKey = nil
    AWS.config.update({s3 = {params = {Bucket = "bound"}}})
    assert.same({params = {Bucket = "bound"}}, AWS.config.s3)
    AWS.config.s3 = nil
  end)

  it("refuses what awspromise cannot honour, naming the key and why", function()
    assert.matches("convertResponseTypes = false is not supported",
      config_error(AWS.config.update, {convertResponseTypes = false}))
    assert.matches("clientSideMonitoring", config_error(AWS.config.update, {clientSideMonitoring = true}))
    -- endpoint discovery, Signature Version 2 and bearer tokens are built (sigv2_spec.lua,
    -- endpoint_discovery_spec.lua): only malformed values are refused
    assert.matches("endpointDiscoveryEnabled must be true or false",
      config_error(AWS.config.update, {endpointDiscoveryEnabled = "yes"}))
    assert.matches("s3UseArnRegion", config_error(AWS.config.update, {s3UseArnRegion = true}))
    assert.matches("signatureVersion = s3", config_error(AWS.config.update, {signatureVersion = "s3"}))
    assert.matches("signatureVersion = v3", config_error(AWS.config.update, {signatureVersion = "v3"}))
    assert.matches("token must be a string", config_error(AWS.config.update, {token = 42}))
    assert.matches("token expiration", config_error(AWS.config.update, {token = {token = "t", expiration = "soon"}}))
    assert.matches("milliseconds", config_error(AWS.config.update, {systemClockOffset = "5"}))
    assert.matches("logger must be", config_error(AWS.config.update, {logger = 42}))
    assert.is_nil(AWS.config.convertResponseTypes)
  end)

  it("turns the accessKeyId/secretAccessKey shorthand into AWS.Credentials", function()
    local s = AWS.Service {apiConfig = "models/sts-2011-06-15.min.json", region = "us-east-1",
      accessKeyId = "AKIDSHORT", secretAccessKey = "shh", sessionToken = "tok"}
    assert.equal("AKIDSHORT", s.config.credentials.accessKeyId)
    assert.equal("tok", s.config.credentials.sessionToken)
    assert.is_nil(s.config.accessKeyId)
    local got
    s:credentialsProvider():get():next(function(c) got = c end)
    AWS.run()
    assert.equal("AKIDSHORT", got.accessKeyId)
    assert.matches("go together", config_error(AWS.S3, {accessKeyId = "only"}))
  end)

  it("loadFromPath replaces the configuration with a JSON file's", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write('{"region": "ap-south-1", "maxRetries": 4, "accessKeyId": "AKFILE", "secretAccessKey": "s"}')
    f:close()
    AWS.config.sslEnabled = false
    assert.equal(AWS.config, AWS.config.loadFromPath(path))
    os.remove(path)
    assert.same({"ap-south-1", 4, "AKFILE"}, {AWS.config.region, AWS.config.maxRetries,
      AWS.config.credentials.accessKeyId})
    assert.is_nil(AWS.config.sslEnabled)
    assert.equal(120000, AWS.config.httpOptions.timeout)
    AWS.config.credentials = nil
    assert.matches("cannot read", config_error(AWS.config.loadFromPath, "/nonexistent/x.json"))
  end)

  it("getCredentials calls back with the configured credentials", function()
    AWS.config.credentials = AWS.Credentials("AKCFG", "secret")
    local err, creds = "unset", nil
    AWS.config:getCredentials(function(e, c) err, creds = e, c end)
    AWS.run()
    assert.is_nil(err)
    assert.equal("AKCFG", creds.accessKeyId)
    AWS.config.credentials = nil
  end)
end)

describe("service keys", function()
  -- A client of `class` with test credentials, no retries and `options` over them.
  local function client_of(class, options)
    local o = {region = "us-east-1", credentials = CREDS, maxRetries = 0}
    for k, v in pairs(options or {}) do o[k] = v end
    return AWS[class](o)
  end
  local function s3(options) return client_of("S3", options) end

  it("customUserAgent is appended to the User-Agent", function()
    await(s3({customUserAgent = "my-app/1.2"}):headBucket({Bucket = "b"}))
    assert.equal("awspromise/" .. AWS.VERSION .. " lua/5.4 my-app/1.2", fake.sent[1].headers["User-Agent"])
    await(s3():headBucket({Bucket = "b"}))
    assert.is_nil(fake.sent[2].headers["User-Agent"])
  end)

  it("params are bound to every call that takes them", function()
    local client = s3({params = {Bucket = "bound-bucket"}})
    await(client:headObject({Key = "k"}))
    assert.equal("https://bound-bucket.s3.amazonaws.com/k", fake.sent[1].url)
    await(client:headObject({Bucket = "other", Key = "k"}))
    assert.equal("https://other.s3.amazonaws.com/k", fake.sent[2].url)
    local state = await(client:listBuckets()) -- takes no Bucket: not bound, not refused
    assert.equal("fulfilled", state)
  end)

  it("AWS.config[serviceId] configures that service's clients", function()
    AWS.config.update({s3 = {params = {Bucket = "per-service"}}})
    local client = s3()
    AWS.config.s3 = nil
    await(client:headObject({Key = "k"}))
    assert.equal("https://per-service.s3.amazonaws.com/k", fake.sent[1].url)
  end)

  it("computeChecksums = false sends no computed Content-MD5", function()
    local del = {Bucket = "b", Delete = {Objects = {{Key = "a"}}}}
    await(s3():deleteObjects(del))
    assert.is_string(fake.sent[1].headers["Content-MD5"])
    await(s3({computeChecksums = false}):deleteObjects(del))
    assert.is_nil(fake.sent[2].headers["Content-MD5"])
  end)

  it("useAccelerateEndpoint addresses bucket.s3-accelerate.amazonaws.com (dualstack too)", function()
    await(s3({useAccelerateEndpoint = true}):getObject({Bucket = "fast", Key = "a/b"}))
    assert.equal("https://fast.s3-accelerate.amazonaws.com/a/b", fake.sent[1].url)
    await(s3({useAccelerateEndpoint = true, s3ForcePathStyle = true}):getObject({Bucket = "fast", Key = "c"}))
    assert.equal("https://fast.s3-accelerate.amazonaws.com/c", fake.sent[2].url)
    await(s3({useAccelerateEndpoint = true, useDualstackEndpoint = true}):getObject({Bucket = "fast", Key = "d"}))
    assert.equal("https://fast.s3-accelerate.dualstack.amazonaws.com/d", fake.sent[3].url)
    await(s3({useAccelerateEndpoint = true}):listBuckets())
    assert.not_matches("accelerate", fake.sent[4].url)
  end)

  it("maxRedirects: a 307 with a Location is sent again there, at most maxRedirects times", function()
    fake.replies = {{statusCode = 307, headers = {location = "https://elsewhere.example/k"}, body = ""}}
    local state = await(s3({maxRetries = 3}):headObject({Bucket = "b", Key = "k"}))
    assert.equal("fulfilled", state)
    assert.equal("https://elsewhere.example/k", fake.sent[2].url)
    fake.sent = {}
    fake.replies = {{statusCode = 307, headers = {location = "https://x.example/k"}, body = ""}}
    local state2, err = await(s3({maxRetries = 3, maxRedirects = 0}):headObject({Bucket = "b", Key = "k"}))
    assert.equal("rejected", state2)
    assert.equal(307, err.statusCode)
    assert.equal(1, #fake.sent)
  end)

  it("dynamoDbCrc32 = false accepts a reply whose x-amz-crc32 does not match", function()
    local function ddb(extra) return client_of("DynamoDB", extra) end
    local bad = {statusCode = 200, headers = {["x-amz-crc32"] = "1"}, body = '{"TableNames": ["t"]}'}
    fake.replies = {bad}
    local state, err = await(ddb():listTables())
    assert.equal("rejected", state)
    assert.equal("CRC32CheckFailed", err.code)
    fake.replies = {bad}
    local state2, data = await(ddb({dynamoDbCrc32 = false}):listTables())
    assert.equal("fulfilled", state2)
    assert.same({"t"}, data.TableNames)
  end)

  it("logger may be any object with write, such as a file", function()
    local file = io.tmpfile()
    await(s3({logger = file}):headBucket({Bucket = "b"}))
    file:seek("set")
    assert.matches("%[AWS s3 200 .* HeadBucket", file:read("a"))
    file:close()
  end)

  it("systemClockOffset is milliseconds, and AWS.util.date.getDate follows it", function()
    AWS.config.systemClockOffset = 3600 * 1000
    local skewed = AWS.util.date.getDate()
    AWS.config.systemClockOffset = nil
    assert.is_true(math.abs(skewed - os.time() - 3600) <= 1)
  end)

  it("lists every key of JavaScript v2's AWS.Config with a status", function()
    local js_keys = {"credentials", "credentialProvider", "region", "logger", "apiVersions", "apiVersion",
      "endpoint", "httpOptions", "maxRetries", "maxRedirects", "paramValidation", "sslEnabled",
      "s3ForcePathStyle", "s3BucketEndpoint", "s3DisableBodySigning", "s3UsEast1RegionalEndpoint",
      "s3UseArnRegion", "computeChecksums", "convertResponseTypes", "correctClockSkew", "customUserAgent",
      "dynamoDbCrc32", "systemClockOffset", "signatureVersion", "signatureCache", "retryDelayOptions",
      "useAccelerateEndpoint", "clientSideMonitoring", "endpointDiscoveryEnabled", "endpointCacheSize",
      "hostPrefixEnabled", "stsRegionalEndpoints", "useFipsEndpoint", "useDualstackEndpoint", "token"}
    for _, key in ipairs(js_keys) do
      local entry = config_keys.KEYS[key]
      assert.is_table(entry, key)
      assert.truthy(({honoured = 1, differently = 1, refused = 1})[entry.status], key)
    end
  end)
end)
