-- botocore's protocol test suites (json, json_1_0, rest-json, rest-xml, query, ec2), one `it` per
-- case named "<protocol> <input|output> <case id>" so that pass counts per protocol and direction
-- show in the output. Cases on botocore's own ignore list and event-stream cases are listed as
-- pending with the reason.
local suite = require "support.protocol_suite"

local shared = suite.shared_dir()

describe("protocol suites", function()
  if not shared then
    pending("../shared/testdata absent: protocol suites skipped")
    return
  end

  for _, protocol in ipairs(suite.PROTOCOLS) do
    local ignored = suite.ignore_list(shared, protocol)
    for _, direction in ipairs({ "input", "output" }) do
      local run = direction == "input" and suite.run_input or suite.run_output
      for _, s in ipairs(suite.load_suites(shared, direction, protocol)) do
        local skip = suite.skip_reason(s)
        for _, case in ipairs(s.cases) do
          local name = suite.case_name(protocol, direction, case)
          if ignored[direction].suites[s.description] then
            pending(string.format("%s: on botocore's ignore list (suite %q)", name, s.description))
          elseif ignored[direction].cases[case.id] then
            pending(name .. ": on botocore's ignore list")
          elseif skip then
            pending(name .. ": " .. skip)
          else
            it(name, function()
              local problem = run(protocol, s, case)
              if problem then error(problem, 0) end
            end)
          end
        end
      end
    end
  end
end)

-- What the suites do not pin down: error fields, refusals, precision.
describe("json and rest-json details", function()
  local core = require "awspromise.core"

  local function model(protocol, extra)
    local m = {
      metadata = { protocol = protocol, jsonVersion = "1.1", targetPrefix = "Svc" },
      operations = {
        Op = {
          name = "Op", http = { method = "POST", requestUri = "/things/{Id}" },
          input = { shape = "In" }, output = { shape = "Out" }, errors = { { shape = "Boom" } },
        },
      },
      shapes = {
        In = { type = "structure", members = {
          Id = { shape = "S", location = "uri", locationName = "Id" },
          Name = { shape = "S" }, Count = { shape = "L" }, Nested = { shape = "In2" }, Tags = { shape = "SL" },
        } },
        In2 = { type = "structure", members = { Inner = { shape = "In2" }, V = { shape = "S" } } },
        Out = { type = "structure", members = { Count = { shape = "L" }, Ratio = { shape = "D" } } },
        Boom = { type = "structure", exception = true, members = { Reason = { shape = "S" }, code = { shape = "S" } } },
        S = { type = "string" }, L = { type = "long" }, D = { type = "double" },
        SL = { type = "list", member = { shape = "S" } },
      },
    }
    for k, v in pairs(extra or {}) do m.metadata[k] = v end
    return core.model_load(core.json_encode(m))
  end

  local function raises(fn)
    local ok, err = pcall(fn)
    assert.is_false(ok)
    return err
  end

  it("names the member path of a wrong parameter type and frees what it built", function()
    local m = model("rest-json")
    local err = raises(function() core.build_request(m, "Op", { Id = "a", Nested = { V = 5 } }) end)
    assert.equal("SerializationError", err.code)
    assert.equal("params.Nested.V: expected a string, got number", err.message)
    err = raises(function() core.build_request(m, "Op", { Id = "a", Tags = "x" }) end)
    assert.matches("^params%.Tags: expected a list", err.message)
  end)

  it("refuses a table that contains itself instead of recursing forever", function()
    local loop = {}
    loop.Inner = loop
    local err = raises(function() core.build_request(model("json"), "Op", { Nested = loop }) end)
    assert.equal("SerializationError", err.code)
    assert.matches("nested deeper than", err.message)
  end)

  it("keeps 64-bit integers exact and treats core.null as unset", function()
    local req = core.build_request(model("json"), "Op", { Count = 9007199254740993, Name = core.null })
    assert.equal('{"Count":9007199254740993}', req.body)
    assert.equal("Svc.Op", req.headers["X-Amz-Target"])
    assert.equal("application/x-amz-json-1.1", req.headers["Content-Type"])
  end)

  it("reads integers as Lua integers and doubles as floats", function()
    local ok, data = core.parse_response(model("json"), "Op",
      { statusCode = 200, headers = {}, body = '{"Count": 42, "Ratio": 2, "Unknown": [1]}' })
    assert.is_true(ok)
    assert.equal("integer", math.type(data.Count))
    assert.equal("float", math.type(data.Ratio))
    assert.is_nil(data.Unknown)
  end)

  it("builds the error table: code, message, status, request id, modeled members", function()
    local ok, err = core.parse_response(model("rest-json"), "Op", {
      statusCode = 400,
      headers = { ["x-amzn-requestid"] = "req-1", ["x-amzn-errortype"] = "Boom:http://internal/" },
      body = '{"message": "it broke", "Reason": "because", "code": "not-the-code"}',
    })
    assert.is_false(ok)
    assert.equal("Boom", err.code)
    assert.equal("it broke", err.message)
    assert.equal(400, err.statusCode)
    assert.equal("req-1", err.requestId)
    assert.equal("because", err.Reason)
    assert.equal("Boom: it broke", tostring(err))
  end)

  it("names a body-less error after its HTTP status", function()
    local ok, err = core.parse_response(model("json"), "Op",
      { statusCode = 503, headers = { ["x-amz-request-id"] = "r2" }, body = "" })
    assert.is_false(ok)
    assert.equal("ServiceUnavailable", err.code)
    assert.equal(503, err.statusCode)
    assert.equal("r2", err.requestId)
  end)

  it("takes the query error code of query-compatible services", function()
    local ok, err = core.parse_response(model("json", { awsQueryCompatible = {} }), "Op", {
      statusCode = 400,
      headers = { ["x-amzn-query-error"] = "AWS.SimpleQueueService.NonExistentQueue;Sender" },
      body = '{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "gone"}',
    })
    assert.is_false(ok)
    assert.equal("AWS.SimpleQueueService.NonExistentQueue", err.code)
    assert.equal("gone", err.message)
  end)

  it("reports a success body that is not JSON", function()
    local ok, err = core.parse_response(model("json"), "Op", { statusCode = 200, headers = {}, body = "<html>" })
    assert.is_false(ok)
    assert.equal("SerializationError", err.code)
  end)
end)
