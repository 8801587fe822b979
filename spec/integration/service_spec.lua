-- AWS.Service from any model (table, JSON text, file), methods, options, results and errors.
local AWS = require "awspromise"
local core = require "awspromise.core"
local servers = require "support.servers"
local support = require "support.loop"

-- A botocore-style model: every shape by name, documentation strings, an errors list.
local MODEL = {
  version = "2.0",
  metadata = {
    protocol = "json", jsonVersion = "1.1", targetPrefix = "Fault", endpointPrefix = "fault",
    signingName = "fault", apiVersion = "2020-01-01", serviceId = "Fault", uid = "fault-2020-01-01",
  },
  operations = {
    Call = {name = "Call", http = {method = "POST", requestUri = "/"}, input = {shape = "CallInput"},
      output = {shape = "CallOutput"}, errors = {{shape = "InternalFailure"}}, documentation = "<p>Calls.</p>"},
    DescribeThings = {name = "DescribeThings", http = {method = "POST", requestUri = "/"}},
  },
  shapes = {
    CallInput = {type = "structure", members = {Value = {shape = "S"}}},
    CallOutput = {type = "structure", members = {ok = {shape = "B"}, attempt = {shape = "I"}}},
    InternalFailure = {type = "structure", members = {message = {shape = "S"}}, exception = true},
    S = {type = "string"}, B = {type = "boolean"}, I = {type = "integer"},
  },
}

local server
setup(function() server = servers.start("spec/support/fault_server.py") end)
teardown(function() server.stop() end)

local function options(extra)
  local o = {apiConfig = MODEL, endpoint = server.url .. "/ok", region = "us-east-1",
    credentials = {accessKeyId = "AK", secretAccessKey = "SK"}, retryDelayOptions = {base = 1}}
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

describe("AWS.Service", function()
  it("builds a client from a model table, with lowerCamelCase methods", function()
    local c = AWS.Service(options())
    assert.is_function(c.call)
    assert.is_function(c.describeThings)
    assert.is_true(c:call():promise():await().ok)
  end)

  it("builds a client from JSON text and from a file path", function()
    local text = core.json_encode(MODEL)
    local c1 = AWS.Service(options {apiConfig = text})
    assert.is_true(c1:call():promise():await().ok)
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
    local c2 = AWS.Service.new(options {apiConfig = path})
    os.remove(path)
    assert.is_true(c2:call():promise():await().ok)
  end)

  it("refuses a missing or malformed apiConfig with a clear error", function()
    local ok, err = pcall(AWS.Service, {region = "us-east-1"})
    assert.is_false(ok)
    assert.equal("ConfigError", err.code)
    assert.matches("apiConfig", err.message)
    local ok2, err2 = pcall(AWS.Service, options {apiConfig = "{ not json"})
    assert.is_false(ok2)
    assert.matches("not a JSON object", tostring(err2.message or err2))
    local ok3, err3 = pcall(AWS.Service, options {apiConfig = "/nonexistent/model.json"})
    assert.is_false(ok3)
    assert.matches("cannot read the model file", err3.message)
    local ok4, err4 = pcall(AWS.Service, options {apiConfig = {metadata = {}}})
    assert.is_false(ok4)
    assert.matches("metadata and operations", err4.message)
  end)

  it("makeRequest reaches any operation by its model name and refuses unknown ones", function()
    local c = AWS.Service(options())
    assert.is_true(c:makeRequest("Call", {}):promise():await().ok)
    local ok, err = pcall(c.makeRequest, c, "NoSuchOperation", {})
    assert.is_false(ok)
    assert.matches("no operation named 'NoSuchOperation'", err.message)
  end)

  it("refuses params that are not a table", function()
    local c = AWS.Service(options())
    local ok, err = pcall(c.call, c, "x")
    assert.is_false(ok)
    assert.equal("InvalidParameterType", err.code)
  end)

  it("takes AWS.config defaults and lets constructor options override them", function()
    AWS.config:update({maxRetries = 7, httpOptions = {connectTimeout = 1234}})
    local c = AWS.Service(options())
    local c2 = AWS.Service(options {maxRetries = 1, httpOptions = {timeout = 99}})
    AWS.config.maxRetries = nil
    AWS.config.httpOptions.connectTimeout = nil
    assert.equal(7, c:maxRetries())
    assert.equal(1234, c.config.httpOptions.connectTimeout)
    assert.equal(1, c2:maxRetries())
    assert.equal(99, c2.config.httpOptions.timeout)
    assert.equal(1234, c2.config.httpOptions.connectTimeout)
  end)

  it("parses each model once per state", function()
    local text = core.json_encode(MODEL)
    local a = AWS.Service(options {apiConfig = text})
    local b = AWS.Service(options {apiConfig = text})
    assert.equal(a.model, b.model)
  end)
end)

describe("results and errors", function()
  it("data is a plain table; $response is reachable but invisible to pairs", function()
    local data = AWS.Service(options {endpoint = server.url .. "/flaky/svc" .. os.time() .. "/1/500"})
      :call():promise():await()
    local keys = {}
    for k in pairs(data) do keys[#keys + 1] = k end
    assert.same({"attempt"}, keys)
    assert.equal(2, math.tointeger(data.attempt))
    assert.equal("integer", math.type(data.attempt))
    local response = data["$response"]
    assert.equal(200, response.statusCode)
    assert.equal(1, response.retryCount)
    assert.is_string(response.requestId)
    assert.equal("application/x-amz-json-1.1", response.headers["content-type"])
  end)

  it("errors carry code, message, statusCode, retryable, requestId, time, region, hostname", function()
    local c = AWS.Service(options {endpoint = server.url .. "/throttle/svc-e" .. os.time() .. "/1/AccessDeniedException"})
    local state, err = support.settle(c:call():promise())
    assert.equal("rejected", state)
    assert.equal("AccessDeniedException", err.code)
    assert.equal("slow down", err.message)
    assert.equal(400, err.statusCode)
    assert.is_false(err.retryable)
    assert.matches("^req%-", err.requestId)
    assert.is_number(err.time)
    assert.equal("us-east-1", err.region)
    assert.equal("127.0.0.1", err.hostname)
    assert.equal("AccessDeniedException: slow down", tostring(err))
  end)
end)

describe("shipped service classes", function()
  it("every class name in metadata.json constructs a client with its methods", function()
    local models = require "awspromise.models"
    local count = 0
    for id, info in pairs(models.services()) do
      local client = AWS[info.name]({region = "us-east-1"})
      assert.equal(id, client.serviceIdentifier, info.name)
      assert.is_table(client.api, info.name)
      count = count + 1
    end
    assert.equal(385, count)
  end)

  it("AWS.EC2 with apiVersion '2014-10-01' picks the oldest shipped version not newer", function()
    local ec2 = AWS.EC2({apiVersion = "2014-10-01", region = "us-east-1"})
    local models = require "awspromise.models"
    assert.equal(models.pick("ec2", "2014-10-01"), ec2.api.apiVersion)
    assert.is_function(ec2.describeInstances)
    assert.is_function(AWS.S3.new({region = "us-west-2"}).putObject)
  end)

  it("AWS.config.apiVersions picks versions per service", function()
    AWS.config.apiVersions = {ec2 = "2014-10-01"}
    local ec2 = AWS.EC2({region = "us-east-1"})
    AWS.config.apiVersions = nil
    assert.equal(require("awspromise.models").pick("ec2", "2014-10-01"), ec2.api.apiVersion)
  end)

  it("an unknown class name is nil, not an error", function()
    assert.is_nil(AWS.NoSuchService)
  end)
end)

describe("S3 addressing through the client", function()
  local s3 = AWS.S3({region = "us-west-2", credentials = {accessKeyId = "a", secretAccessKey = "b"}})

  it("puts DNS-compatible buckets in the host, others in the path", function()
    local cases = {
      {"mybucket", "GetObject", {Key = "dir/key one"}, "https://mybucket.s3.us-west-2.amazonaws.com/dir/key%20one"},
      {"mybucket", "ListObjectsV2", {}, "https://mybucket.s3.us-west-2.amazonaws.com/?list-type=2"},
      {"My_Bucket", "GetObject", {Key = "k"}, "https://s3.us-west-2.amazonaws.com/My_Bucket/k"},
      {"dotted.bucket", "GetObject", {Key = "k"}, "https://s3.us-west-2.amazonaws.com/dotted.bucket/k"},
    }
    for _ = 1, 2 do -- the second round is served from the per-bucket cache
      for _, case in ipairs(cases) do
        local params = {Bucket = case[1]}
        for k, v in pairs(case[3]) do params[k] = v end
        assert.equal(case[4], s3:buildHttpRequest(case[2], params).url)
      end
    end
  end)

  it("uses path style for a custom endpoint on an IP address and with s3ForcePathStyle", function()
    local local_s3 = AWS.S3({region = "us-east-1", endpoint = "http://127.0.0.1:9000"})
    assert.equal("http://127.0.0.1:9000/mybucket/k", local_s3:buildHttpRequest("GetObject", {Bucket = "mybucket", Key = "k"}).url)
    local forced = AWS.S3({region = "us-west-2", s3ForcePathStyle = true})
    assert.equal("https://s3.us-west-2.amazonaws.com/mybucket/k",
      forced:buildHttpRequest("GetObject", {Bucket = "mybucket", Key = "k"}).url)
  end)
end)
