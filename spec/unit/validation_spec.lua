-- Parameter validation: every problem named by path, all of them at once, nothing sent.
local AWS = require "awspromise"
local core = require "awspromise.core"
local support = require "support.loop"

local MODEL = {
  metadata = {protocol = "json", jsonVersion = "1.0", targetPrefix = "V", endpointPrefix = "v",
    apiVersion = "2020-01-01", serviceId = "V"},
  operations = {
    Put = {name = "Put", http = {method = "POST", requestUri = "/"}, input = {shape = "PutInput"}},
    Head = {name = "Head", http = {method = "GET", requestUri = "/"}, input = {shape = "HeadInput"}},
    Nothing = {name = "Nothing", http = {method = "POST", requestUri = "/"}},
  },
  shapes = {
    PutInput = {type = "structure", required = {"TableName", "Item"}, members = {
      TableName = {shape = "S"}, Item = {shape = "Item"}, Limit = {shape = "I"}, Ratio = {shape = "D"},
      Tags = {shape = "TagList"}, Flag = {shape = "Bool"}, When = {shape = "T"}, Data = {shape = "Blob"},
    }},
    Item = {type = "map", key = {shape = "S"}, value = {shape = "AttributeValue"}},
    AttributeValue = {type = "structure", members = {S = {shape = "S"}, N = {shape = "S"}, L = {shape = "AVList"}}},
    AVList = {type = "list", member = {shape = "AttributeValue"}},
    TagList = {type = "list", member = {shape = "Tag"}},
    Tag = {type = "structure", required = {"Key"}, members = {Key = {shape = "S"}, Value = {shape = "S"}}},
    HeadInput = {type = "structure", members = {Token = {shape = "S", location = "header", locationName = "x-token"}}},
    S = {type = "string"}, I = {type = "integer"}, D = {type = "double"}, Bool = {type = "boolean"},
    T = {type = "timestamp"}, Blob = {type = "blob"},
  },
}

local model = core.model_load(core.json_encode(MODEL))
local function validate(op, params) return core.validate(model, op, params) end

describe("validation", function()
  it("accepts well-formed params", function()
    assert.is_nil(validate("Put", {
      TableName = "t", Item = {id = {S = "1"}, list = {L = {{S = "a"}, {N = "2"}}}},
      Limit = 10, Ratio = 0.5, Tags = {{Key = "k", Value = "v"}}, Flag = false, When = 1700000000, Data = "\0bytes",
    }))
    assert.is_nil(validate("Put", {TableName = "t", Item = {}, Limit = 3.0, When = "2024-01-02T03:04:05Z"}))
  end)

  it("names a missing required member", function()
    local err = validate("Put", {Item = {}})
    assert.equal("MissingRequiredParameter", err.code)
    assert.equal("Missing required key 'TableName' in params", err.message)
    local nested = validate("Put", {TableName = "t", Item = {}, Tags = {{Value = "v"}}})
    assert.equal("Missing required key 'Key' in params.Tags[1]", nested.message)
  end)

  it("names an unknown member", function()
    local err = validate("Put", {TableName = "t", Item = {}, Bogus = 1})
    assert.equal("UnexpectedParameter", err.code)
    assert.equal("Unexpected key 'Bogus' found in params", err.message)
    local deep = validate("Put", {TableName = "t", Item = {id = {X = "1"}}})
    assert.equal("Unexpected key 'X' found in params.Item.id", deep.message)
  end)

  it("names wrong types by path", function()
    local cases = {
      {{TableName = 5, Item = {}}, "Expected params.TableName to be a string"},
      {{TableName = "t", Item = "x"}, "Expected params.Item to be a map"},
      {{TableName = "t", Item = {id = {S = 1}}}, "Expected params.Item.id.S to be a string"},
      {{TableName = "t", Item = {}, Limit = 1.5}, "Expected params.Limit to be an integer"},
      {{TableName = "t", Item = {}, Ratio = "x"}, "Expected params.Ratio to be a number"},
      {{TableName = "t", Item = {}, Tags = {a = 1}}, "Expected params.Tags to be a list"},
      {{TableName = "t", Item = {}, Tags = {"x"}}, "Expected params.Tags[1] to be a structure"},
      {{TableName = "t", Item = {}, Flag = "yes"}, "Expected params.Flag to be a boolean"},
      {{TableName = "t", Item = {}, When = true}, "Expected params.When to be a timestamp"},
      {{TableName = "t", Item = {}, Data = 5}, "Expected params.Data to be a string of bytes"},
      {{TableName = "t", Item = {["odd key"] = {S = 2}}}, "Expected params.Item['odd key'].S to be a string"},
    }
    for _, case in ipairs(cases) do
      local err = validate("Put", case[1])
      assert.is_table(err, case[2])
      assert.equal("InvalidParameterType", err.code, case[2])
      assert.matches(case[2], err.message, 1, true)
    end
  end)

  it("reports several problems at once as MultipleValidationErrors", function()
    local err = validate("Put", {Item = {id = {S = 1}}, Limit = "x", Extra = true})
    assert.equal("MultipleValidationErrors", err.code)
    assert.equal(4, #err.errors)
    local codes = {}
    for _, e in ipairs(err.errors) do codes[e.code] = (codes[e.code] or 0) + 1 end
    assert.same({MissingRequiredParameter = 1, InvalidParameterType = 2, UnexpectedParameter = 1}, codes)
    assert.matches("4 validation errors", tostring(err))
    assert.matches("params.Item.id.S", err.message, 1, true)
  end)

  it("refuses CR or LF in a header value", function()
    local err = validate("Head", {Token = "a\r\nInjected: 1"})
    assert.equal("InvalidParameter", err.code)
    assert.matches("params.Token must not contain CR or LF", err.message, 1, true)
  end)

  it("finds members by exact name in a wide structure, and checks CR/LF only in header members", function()
    -- members are looked up through an index kept with the model: near misses must stay unknown
    local members = {Body = {shape = "S"}, Key = {shape = "S", location = "header", locationName = "x-key"}}
    for i = 1, 60 do members["Member" .. i] = {shape = i % 2 == 0 and "I" or "S"} end
    local wide = core.model_load(core.json_encode {
      metadata = MODEL.metadata,
      operations = {Wide = {name = "Wide", http = {method = "POST", requestUri = "/"}, input = {shape = "WideInput"}}},
      shapes = {WideInput = {type = "structure", members = members}, S = {type = "string"}, I = {type = "integer"}},
    })
    local params = {Body = "line\r\nbreak", Member7 = "seven", Member60 = 60}
    for _ = 1, 2 do -- the second call goes through the stored index
      assert.is_nil(core.validate(wide, "Wide", params))
    end
    for _, name in ipairs {"member7", "Member", "Member600", "Body ", "Key\0"} do
      local err = core.validate(wide, "Wide", {[name] = "x"})
      assert.equal("UnexpectedParameter", err and err.code, name)
    end
    assert.matches("Expected params.Member8 to be an integer", core.validate(wide, "Wide", {Member8 = "eight"}).message,
      1, true)
    assert.matches("params.Key must not contain CR or LF", core.validate(wide, "Wide", {Key = "a\nb"}).message, 1, true)
  end)

  it("an operation without input takes no params", function()
    assert.is_nil(validate("Nothing", {}))
    assert.equal("UnexpectedParameter", validate("Nothing", {X = 1}).code)
  end)

  it("rejects the request before any I/O, and paramValidation = false skips it", function()
    local c = AWS.Service {apiConfig = MODEL, endpoint = "http://127.0.0.1:1", region = "us-east-1",
      credentials = {accessKeyId = "a", secretAccessKey = "b"}}
    local sent = false
    local req = c:put({TableName = 5})
    req:on("send", function() sent = true end)
    local state, err = support.settle(req:promise())
    assert.equal("rejected", state)
    assert.equal("MultipleValidationErrors", err.code)
    assert.is_false(sent)
    local c2 = AWS.Service {apiConfig = MODEL, endpoint = "http://127.0.0.1:1", region = "us-east-1",
      credentials = {accessKeyId = "a", secretAccessKey = "b"}, paramValidation = false, maxRetries = 0}
    local req2 = c2:put({TableName = "t", Item = {}, Bogus = 1})
    local sent2 = false
    req2:on("send", function() sent2 = true end)
    local _, err2 = support.settle(req2:promise())
    assert.is_true(sent2)
    assert.equal("NetworkingError", err2.code)
  end)
end)
