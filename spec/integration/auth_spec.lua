-- Signature Version 2, bearer tokens and endpoint discovery against spec/support/auth_fixture.py:
-- SimpleDB's form checked by botocore's SigV2Auth, CodeCatalyst's Authorization header, and
-- Timestream's DescribeEndpoints on one port sending the real calls to a second one.
local AWS = require "awspromise"
local core = require "awspromise.core"
local servers = require "support.servers"
local discovery = require "awspromise.endpoint_discovery"

local V2 = {accessKeyId = "AKIDV2", secretAccessKey = "v2-secret/key+000"}
local BEARER = "codecatalyst-bearer-0001"

local srv
setup(function() srv = servers.start("spec/support/auth_fixture.py") end)
teardown(function() if srv then srv.stop() end end)

local function outcome(request)
  local ok, value = pcall(function() return request:promise():await() end)
  return ok, value
end

local function log() return srv.json("GET", "/_control/log") end

before_each(function()
  srv.json("GET", "/_control/reset")
  discovery.clear()
end)

describe("the engine's sign option", function()
  local function send(opts)
    return core.http(opts):await()
  end

  it("v2 rewrites a POST form into its signed form, which botocore's verifier accepts", function()
    local sign = core.http_signing {version = "v2", accessKeyId = "AKIDV2", secretAccessKey = "v2-secret/key+000"}
    local res = send {method = "POST", url = srv.url .. "/", body = "Action=ListDomains&Version=2009-04-15",
      headers = {["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"}, sign = sign, proxy = ""}
    assert.equal(200, res.statusCode)
    assert.matches("<DomainName>alpha</DomainName>", res.body)
    local bad = core.http_signing {version = "v2", accessKeyId = "AKIDV2", secretAccessKey = "not-it"}
    res = send {method = "POST", url = srv.url .. "/", body = "Action=ListDomains", sign = bad, proxy = "",
      headers = {["Content-Type"] = "application/x-www-form-urlencoded"}}
    assert.equal(403, res.statusCode)
    assert.matches("signature mismatch", res.body)
  end)

  it("bearer sends Authorization: Bearer <token>", function()
    local res = send {method = "POST", url = srv.url .. "/v1/spaces", body = "{}", proxy = "",
      sign = core.http_signing {version = "bearer", token = "codecatalyst-bearer-0001"}}
    assert.equal(200, res.statusCode)
    res = send {method = "POST", url = srv.url .. "/v1/spaces", body = "{}", proxy = "",
      sign = {version = "bearer", token = "another"}}
    assert.equal(401, res.statusCode)
  end)

  it("refuses an unknown version or a bearer sign without a token", function()
    local refused = {
      {{version = "v3", accessKeyId = "a", secretAccessKey = "b"}, "must be 'v4', 'v2' or 'bearer'"},
      {{version = "bearer"}, "needs a token"},
      {{version = "v2", accessKeyId = "a"}, "needs accessKeyId and secretAccessKey"},
    }
    for _, case in ipairs(refused) do
      local ok, err = pcall(core.http_signing, case[1])
      assert.is_false(ok)
      assert.matches(case[2], err.message)
    end
  end)
end)

describe("Signature Version 2 clients", function()
  it("signs SimpleDB (its model asks for v2) so that botocore's verifier accepts it", function()
    local sdb = AWS.SimpleDB {region = "us-east-1", endpoint = srv.url, credentials = V2}
    local ok, data = outcome(sdb:listDomains())
    assert.is_true(ok, data and data.message)
    assert.same({"alpha", "beta"}, data.DomainNames)
    local wrong = AWS.SimpleDB {region = "us-east-1", endpoint = srv.url, maxRetries = 0,
      credentials = {accessKeyId = "AKIDV2", secretAccessKey = "nope"}}
    local failed, err = outcome(wrong:listDomains())
    assert.is_false(failed)
    assert.equal("SignatureDoesNotMatch", err.code)
  end)

  it("signs with v2 when signatureVersion = 'v2' is configured, and with v4 when 'v4' is", function()
    local sdb = AWS.SimpleDB {region = "us-east-1", endpoint = srv.url, credentials = V2, signatureVersion = "v4",
      maxRetries = 0}
    local ok, err = outcome(sdb:listDomains())
    assert.is_false(ok)
    assert.matches("missing AWSAccessKeyId", err.message)
    local model = require("awspromise.models").read(AWS.SimpleDB.serviceIdentifier, "2009-04-15")
    local v4_model = core.json_decode(model)
    v4_model.metadata.signatureVersion = "v4"
    local custom = AWS.Service {apiConfig = v4_model, region = "us-east-1", endpoint = srv.url, credentials = V2,
      signatureVersion = "v2"}
    local fine, data = outcome(custom:makeRequest("ListDomains", {}))
    assert.is_true(fine, data and data.message)
    assert.same({"alpha", "beta"}, data.DomainNames)
  end)
end)

describe("bearer tokens", function()
  local function client(token, extra)
    local options = {region = "us-west-2", endpoint = srv.url, token = token, maxRetries = 0}
    for k, v in pairs(extra or {}) do options[k] = v end
    return AWS.CodeCatalyst(options)
  end

  local function spaces(token, extra)
    local ok, value = outcome(client(token, extra):listSpaces())
    if ok then return value.items[1].name end
    return nil, value
  end

  it("sends Authorization: Bearer <token> for CodeCatalyst (signatureVersion bearer)", function()
    assert.equal("space-one", spaces(BEARER))
    local name, err = spaces("wrong-token")
    assert.is_nil(name)
    assert.equal(401, err.statusCode)
  end)

  it("takes {token, expiration}, AWS.Token, AWS.StaticTokenProvider and a function", function()
    assert.equal("space-one", spaces({token = BEARER, expiration = os.time() + 600}))
    assert.equal("space-one", spaces(AWS.Token {token = BEARER}))
    assert.equal("space-one", spaces(AWS.StaticTokenProvider {token = BEARER, expireTime = os.time() + 600}))
    local calls = 0
    local function provider()
      calls = calls + 1
      return AWS.Promise.resolve({token = BEARER, expiration = os.time() + 600})
    end
    local cc = client(provider)
    assert.is_true((outcome(cc:listSpaces())))
    assert.is_true((outcome(cc:listSpaces())))
    assert.equal(1, calls) -- the token is kept until it expires
  end)

  it("refreshes an AWS.Token through its load when it expired", function()
    local token = AWS.Token {token = "stale", expireTime = os.time() - 1}
    local loads = 0
    function token.load()
      loads = loads + 1
      return AWS.Promise.resolve({token = BEARER, expireTime = os.time() + 600})
    end
    assert.equal("space-one", spaces(token))
    assert.equal(1, loads)
    assert.equal(BEARER, token.token)
    assert.is_false(token:needsRefresh())
  end)

  it("fails with a TokenError when there is no usable token", function()
    local name, err = spaces(nil)
    assert.is_nil(name)
    assert.equal("TokenError", err.code)
    name, err = spaces({token = BEARER, expiration = os.time() - 5})
    assert.is_nil(name)
    assert.equal("TokenError", err.code)
    assert.matches("expired", err.message)
    name, err = spaces(function() return AWS.Promise.reject(AWS.Promise.make_error("Boom", "no portal")) end)
    assert.is_nil(name)
    assert.equal("Boom", err.code)
  end)

  it("AWS.config.token reaches clients made later; signatureVersion = 'v4' signs instead", function()
    local saved = AWS.config.token
    AWS.config.update {token = BEARER}
    local ok, data = outcome(AWS.CodeCatalyst({region = "us-west-2", endpoint = srv.url}):listSpaces())
    AWS.config.token = saved
    assert.is_true(ok, data and data.message)
    local name, err = spaces(BEARER, {signatureVersion = "v4", credentials = V2})
    assert.is_nil(name)
    assert.equal(401, err.statusCode) -- a SigV4 Authorization header, not the bearer token
  end)
end)

describe("endpoint discovery", function()
  local NONE = {}
  local ports
  setup(function() ports = srv.json("GET", "/_control/ports") end)

  local function timestream(extra)
    local options = {region = "us-east-1", endpoint = srv.url, endpointDiscoveryEnabled = true,
      credentials = {accessKeyId = "AKIDTS", secretAccessKey = "ts-secret"}, retryDelayOptions = {base = 1}}
    for k, v in pairs(extra or {}) do options[k] = v end
    for k, v in pairs(options) do
      if v == NONE then options[k] = nil end
    end
    return AWS.TimestreamQuery(options)
  end

  local function targets(port)
    local list = {}
    for _, call in ipairs(log()) do
      if call.port == port then list[#list + 1] = call.target end
    end
    return list
  end

  it("asks DescribeEndpoints once (with x-amz-api-version) and sends every call to its address", function()
    local ts = timestream()
    local promises = {}
    for i = 1, 3 do promises[i] = ts:query({QueryString = "SELECT " .. i}):promise() end
    local results = AWS.Promise.all(promises):await()
    assert.equal(3, #results)
    assert.truthy(results[1].QueryId)
    assert.same({"DescribeEndpoints"}, targets(ports.discovery))
    assert.same({"Query", "Query", "Query"}, targets(ports.discovered))
    assert.equal("2018-11-01", log()[1].api_version)
    ts:describeAccountSettings():promise():await() -- the cached address serves other operations
    assert.same({"DescribeEndpoints"}, targets(ports.discovery))
  end)

  it("drops the address on InvalidEndpointException (421) and retries, discovering anew", function()
    local ts = timestream()
    ts:query({QueryString = "SELECT 1"}):promise():await()
    srv.json("GET", "/_control/reject_next")
    local data = ts:query({QueryString = "SELECT 2"}):promise():await()
    assert.truthy(data.QueryId)
    assert.same({"DescribeEndpoints", "DescribeEndpoints"}, targets(ports.discovery))
    assert.same({"Query", "Query", "Query"}, targets(ports.discovered))
  end)

  it("asks again once CachePeriodInMinutes has passed", function()
    srv.json("GET", "/_control/cache?minutes=0")
    local ts = timestream()
    ts:query({QueryString = "SELECT 1"}):promise():await()
    ts:query({QueryString = "SELECT 2"}):promise():await()
    assert.same({"DescribeEndpoints", "DescribeEndpoints"}, targets(ports.discovery))
  end)

  it("keeps one cache entry per access key", function()
    timestream():query({QueryString = "SELECT 1"}):promise():await()
    timestream({credentials = {accessKeyId = "AKIDOTHER", secretAccessKey = "s"}}):query({QueryString = "SELECT 1"})
      :promise():await()
    timestream():query({QueryString = "SELECT 1"}):promise():await()
    assert.same({"DescribeEndpoints", "DescribeEndpoints"}, targets(ports.discovery))
  end)

  it("refuses a required operation when discovery is disabled; a configured endpoint gets the call", function()
    -- no endpoint given: the request fails before anything is sent
    local ok, err = outcome(timestream({endpointDiscoveryEnabled = false, endpoint = NONE}):query({QueryString = "SELECT 1"}))
    assert.is_false(ok)
    assert.equal("ConfigurationException", err.code)
    assert.matches("Timestream Query.Query%(%) requires it", err.message)
    -- as in JavaScript, a configured endpoint without endpointDiscoveryEnabled = true is used as is
    ok, err = outcome(timestream({endpointDiscoveryEnabled = NONE, maxRetries = 0}):query({QueryString = "SELECT 1"}))
    assert.is_false(ok)
    assert.equal("InvalidEndpointException", err.code)
    assert.same({"Query"}, targets(ports.discovery))
  end)
end)
