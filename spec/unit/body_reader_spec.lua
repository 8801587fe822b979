-- Streaming request bodies without a server: which Body values validation lets through (a file
-- handle or a reader only for a streaming blob), and how core.http checks bodyReader/bodyLength.
local core = require "awspromise.core"

local MODEL = {
  metadata = {protocol = "rest-xml", endpointPrefix = "b", apiVersion = "2020-01-01", serviceId = "B"},
  operations = {
    Put = {name = "Put", http = {method = "PUT", requestUri = "/{Key}"}, input = {shape = "PutInput"}},
  },
  shapes = {
    PutInput = {type = "structure", required = {"Key"}, payload = "Body", members = {
      Key = {shape = "S", location = "uri", locationName = "Key"},
      Body = {shape = "Stream", streaming = true},
      Note = {shape = "Blob", location = "header", locationName = "x-note"},
    }},
    S = {type = "string"}, Stream = {type = "blob"}, Blob = {type = "blob"},
  },
}

local model = core.model_load(core.json_encode(MODEL))
local function validate(params) return core.validate(model, "Put", params) end

describe("streaming request bodies", function()
  it("a streaming blob accepts a string, a file handle or a reader function", function()
    assert.is_nil(validate({Key = "k", Body = "bytes"}))
    assert.is_nil(validate({Key = "k", Body = io.stdin}))
    assert.is_nil(validate({Key = "k", Body = function() return nil end}))
  end)

  it("anything else, and a file or reader for a blob that does not stream, is refused", function()
    local err = validate({Key = "k", Body = {}})
    assert.equal("InvalidParameterType", err.code)
    assert.matches("params.Body", err.message, 1, true)
    err = validate({Key = "k", Note = function() end})
    assert.equal("InvalidParameterType", err.code)
    assert.matches("params.Note", err.message, 1, true)
    err = validate({Key = "k", Note = io.stdin})
    assert.equal("InvalidParameterType", err.code)
  end)

  it("the REST builder hands a reader on as the request's body, untouched", function()
    local reader = function() return nil end
    local req = core.build_request(core.operation(model, "Put"), {Key = "k", Body = reader}, {})
    assert.equal(reader, req.body)
  end)

  it("core.http checks bodyReader and bodyLength at the call", function()
    local function refused(opts)
      local ok, err = pcall(core.http, opts, function() end)
      assert.is_false(ok)
      assert.equal("InvalidParameter", err.code)
      return err.message
    end
    local url = "http://127.0.0.1:9/x"
    assert.matches("bodyReader must be a function", refused({url = url, method = "PUT", bodyReader = "text"}), 1, true)
    assert.matches("exclude each other", refused({url = url, method = "PUT", body = "b", bodyReader = print}), 1, true)
    assert.matches("bodyLength", refused({url = url, method = "PUT", bodyReader = print, bodyLength = -1}), 1, true)
    assert.matches("bodyLength", refused({url = url, method = "PUT", bodyReader = print, bodyLength = 1.5}), 1, true)
  end)
end)
