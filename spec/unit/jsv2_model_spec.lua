-- Model fidelity as JavaScript v2's Shape.create has it: traits of a referenced shape inherited by
-- the reference, "character" read as a string, jsonvalue headers decoded; and the list rule of the
-- validator (a sequence with n equal to its length, as AWS.Promise.all and table.pack leave).
local AWS = require "awspromise"

local function structure(members, extra)
  local s = {type = "structure", members = members}
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

local MODEL = {
  metadata = {protocol = "rest-json", endpointPrefix = "fid", apiVersion = "2020-01-01", serviceId = "Fid",
    signatureVersion = "v4"},
  operations = {
    Put = {name = "Put", http = {method = "PUT", requestUri = "/things/{Id}"}, input = {shape = "PutInput"},
      output = {shape = "PutOutput"}},
  },
  shapes = {
    PutInput = structure({
      Id = {shape = "IdShape"}, -- location and locationName come from IdShape
      Meta = {shape = "MetaMap"}, -- a headers map whose location lives on the shape
      Doc = {shape = "JsonHeader"},
      Letter = {shape = "Char"},
      Body = {shape = "Blob"},
      Names = {shape = "Names"},
    }, {payload = "Body"}),
    PutOutput = structure {Doc = {shape = "JsonHeader"}, Meta = {shape = "MetaMap"}},
    IdShape = {type = "string", location = "uri", locationName = "Id"},
    MetaMap = {type = "map", key = {shape = "S"}, value = {shape = "S"}, location = "headers",
      locationName = "x-fid-meta-"},
    JsonHeader = {type = "string", jsonvalue = true, location = "header", locationName = "x-fid-doc"},
    Char = {type = "character", location = "header", locationName = "x-fid-letter"},
    Blob = {type = "blob"},
    Names = {type = "list", member = {shape = "S"}, location = "header", locationName = "x-fid-names"},
    S = {type = "string"},
  },
}

local fake = require "support.fake_transport"
local await = fake.await
local client

before_each(function()
  fake.install()
  client = AWS.Service {apiConfig = MODEL, region = "us-east-1", endpoint = "https://fid.example",
    credentials = {accessKeyId = "AKID", secretAccessKey = "SECRET"}, maxRetries = 0}
end)

after_each(fake.restore)

-- The reply of the next call, with these headers.
local function reply_headers(headers)
  fake.replies[1] = {statusCode = 200, headers = headers, body = ""}
end

describe("shape trait inheritance", function()
  it("a member inherits location, locationName and payload from what it references", function()
    local state, err = await(client:put({Id = "x 1", Meta = {color = "red"}, Letter = "q", Body = "bytes"}))
    assert.equal("fulfilled", state, err and err.message)
    local http = fake.sent[1]
    assert.equal("https://fid.example/things/x%201", http.url)
    assert.equal("red", http.headers["x-fid-meta-color"])
    assert.equal("q", http.headers["x-fid-letter"])
    assert.equal("bytes", http.body)
  end)

  it("a character member is a string to the validator", function()
    local state, err = await(client:put({Id = "a", Letter = 5}))
    assert.equal("rejected", state)
    assert.matches("Letter", err.message)
  end)
end)

describe("jsonvalue headers", function()
  it("are JSON-encoded (base64) on input and decoded into Lua values on output", function()
    reply_headers({["x-fid-doc"] = AWS.util.base64.encode('{"a":[1,2],"b":"c"}'), ["x-fid-meta-k"] = "v"})
    local state, data = await(client:put({Id = "a", Doc = {z = true}}))
    assert.equal("fulfilled", state)
    assert.equal('{"z":true}', AWS.util.base64.decode(fake.sent[1].headers["x-fid-doc"]))
    assert.same({a = {1, 2}, b = "c"}, {a = {data.Doc.a[1], data.Doc.a[2]}, b = data.Doc.b})
    assert.same({k = "v"}, data.Meta)
  end)

  it("keep text that is not JSON as text", function()
    reply_headers({["x-fid-doc"] = AWS.util.base64.encode("not json")})
    local _, data = await(client:put({Id = "a"}))
    assert.equal("not json", data.Doc)
  end)
end)

describe("the list rule", function()
  it("takes a sequence with n equal to its length (AWS.Promise.all, table.pack) as a list", function()
    local names
    AWS.Promise.all({AWS.Promise.resolve("a"), AWS.Promise.resolve("b")}):next(function(v) names = v end)
    AWS.run()
    assert.equal(2, names.n)
    local state, err = await(client:put({Id = "a", Names = names}))
    assert.equal("fulfilled", state, err and err.message)
    assert.equal("a, b", fake.sent[1].headers["x-fid-names"])
    assert.equal("fulfilled", (await(client:put({Id = "a", Names = table.pack("x")}))))
  end)

  it("still refuses a table whose n is not its length, or that has other keys", function()
    for _, bad in ipairs {{"a", n = 3}, {"a", extra = 1}, {"a", n = "1"}} do
      local state, err = await(client:put({Id = "a", Names = bad}))
      assert.equal("rejected", state)
      assert.matches("Names", err.message)
    end
  end)
end)
