-- Request events as JavaScript v2 fires them: the HTTP events of a reply, afterBuild,
-- extractData / extractError, httpError, and AWS.events' global listeners.
local AWS = require "awspromise"
local fake = require "support.fake_transport"

local CREDS = {accessKeyId = "AKID", secretAccessKey = "SECRET"}

local function ddb()
  return AWS.DynamoDB {region = "us-east-1", credentials = CREDS, maxRetries = 0}
end

before_each(fake.install)
after_each(function()
  fake.restore()
  AWS.events:removeAllListeners()
end)

describe("request events", function()
  it("fire httpHeaders, httpData, httpDone, afterBuild and extractData in JavaScript's order", function()
    fake.replies[1] = {statusCode = 200, statusMessage = "OK", headers = {["x-amzn-requestid"] = "r1"},
      body = '{"TableNames": ["a"]}'}
    local seen = {}
    local req = ddb():listTables()
    for _, event in ipairs {"afterBuild", "httpHeaders", "httpData", "httpDone", "extractData", "success"} do
      req:on(event, function(...) seen[#seen + 1] = {event, ...} end)
    end
    assert.equal("fulfilled", (fake.await(req)))
    local names = {}
    for i, e in ipairs(seen) do names[i] = e[1] end
    assert.same({"afterBuild", "httpHeaders", "httpData", "httpDone", "extractData", "success"}, names)
    assert.equal(200, seen[2][2])
    assert.equal("r1", seen[2][3]["x-amzn-requestid"])
    assert.equal("OK", seen[2][5])
    assert.equal('{"TableNames": ["a"]}', seen[3][2])
    assert.same({"a"}, seen[5][2].data.TableNames)
  end)

  it("fire extractError for a service error", function()
    fake.replies[1] = {statusCode = 400, headers = {}, body = '{"__type": "ValidationException", "message": "no"}'}
    local got
    local req = ddb():listTables():on("extractError", function(response) got = response.error end)
    assert.equal("rejected", (fake.await(req)))
    assert.equal("ValidationException", got.code)
  end)
end)

describe("AWS.events", function()
  it("gives every new request its listeners (dot or colon call), until removed", function()
    local sends = 0
    local function count() sends = sends + 1 end
    AWS.events:on("send", count)
    fake.await(ddb():listTables())
    AWS.events.on("send", count)
    fake.await(ddb():listTables())
    assert.equal(3, sends)
    AWS.events:removeListener("send", count)
    fake.await(ddb():listTables())
    assert.equal(3, sends)
  end)

  it("refuses an unknown event", function()
    assert.has_error(function() AWS.events:on("nonsense", function() end) end)
  end)
end)
