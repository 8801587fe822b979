-- Issue 10, the rest: every send is an attempt the retry policy decided (defect 5), the wait
-- queue is bounded (defect 4), against spec/support/fault_server.py.
local AWS = require "awspromise"
local core = require "awspromise.core"
local servers = require "support.servers"
local support = require "support.loop"

-- The fault server answers {"ok": true}; a JSON-protocol client without input is enough.
local MODEL = {
  metadata = {protocol = "json", jsonVersion = "1.1", targetPrefix = "More", endpointPrefix = "more",
    signingName = "more", apiVersion = "2024-01-01", serviceId = "More"},
  operations = {Call = {name = "Call", http = {method = "POST", requestUri = "/"}, output = {shape = "Reply"}}},
  shapes = {Reply = {type = "structure", members = {ok = {shape = "Flag"}}}, Flag = {type = "boolean"}},
}

local server

local function client(path, options)
  local opts = {endpoint = server.url .. path, apiConfig = MODEL, region = "us-east-1",
    retryDelayOptions = {base = 1}, credentials = {accessKeyId = "AKIDFAULT", secretAccessKey = "fault-secret"}}
  for name, value in pairs(options or {}) do opts[name] = value end
  return AWS.Service(opts)
end

-- A fresh key for the fault server's counters, and how many requests it saw under one.
local keys = 0
local function key() keys = keys + 1; return "relmore-" .. os.time() .. "-" .. keys end
local function count(k) return server.json("GET", "/_count/" .. k).count end

-- Leaves an idle keep-alive connection that has served a request in libcurl's cache, so that
-- the next request goes out on a reused connection.
local function prime()
  assert.equal("fulfilled", (support.settle(client("/ok"):call():promise())))
end

setup(function() server = servers.start("spec/support/fault_server.py") end)
teardown(function() if server then server.stop() end end)

describe("a reused connection reset before any reply byte (defect 5)", function()
  it("is not sent again behind the retry policy: maxRetries = 0 sends once", function()
    local k = key()
    prime()
    local state, err = support.settle(client("/reset_reused/" .. k, {maxRetries = 0}):call():promise())
    assert.equal("rejected", state)
    assert.equal("NetworkingError", err.code, err.message)
    assert.is_true(err.retryable)
    assert.equal(0, err.retryCount)
    assert.equal(1, count(k))
  end)

  it("with maxRetries = 2 the sends are retryCount + 1", function()
    local k = key()
    prime()
    local state, value = support.settle(client("/reset_reused/" .. k, {maxRetries = 2}):call():promise())
    local retries = state == "fulfilled" and value["$response"].retryCount or value.retryCount
    assert.is_true(retries >= 1, "the reset attempt was retried by the policy")
    assert.equal(retries + 1, count(k))
  end)

  it("core.http fails the transfer with a message saying why", function()
    local k = key()
    prime()
    local state, err = support.settle((core.http {method = "GET", url = server.url .. "/reset_reused/" .. k}))
    assert.equal("rejected", state)
    assert.equal("NetworkingError", err.code)
    assert.matches("not sent again", err.message)
    assert.equal(1, count(k))
  end)
end)

describe("the wait queue is bounded (defect 4)", function()
  local saved
  before_each(function() saved = core.http_stats() end)
  after_each(function() core.http_configure {maxInCurl = saved.maxInCurl, maxQueue = saved.maxQueue} end)

  it("has a documented default", function()
    assert.equal(100000, saved.maxQueue)
  end)

  it("past maxQueue a request rejects at once, naming the limit, and is never sent", function()
    local k = key()
    core.http_configure {maxInCurl = 1, maxQueue = 2}
    local list = {}
    for i = 1, 4 do list[i] = (core.http {method = "GET", url = server.url .. "/flaky/" .. k .. "/0/500"}) end
    assert.equal(2, core.http_stats().queued)
    local state, results = support.settle(AWS.Promise.allSettled(list))
    assert.equal("fulfilled", state)
    for i = 1, 3 do assert.equal("fulfilled", results[i].status) end
    local err = results[4].reason
    assert.equal("rejected", results[4].status)
    assert.equal("RequestQueueFullError", err.code)
    assert.matches("maxQueue", err.message)
    assert.matches("2 requests", err.message)
    assert.is_false(err.retryable)
    assert.equal(3, count(k))
    assert.equal(0, core.http_stats().queued)
  end)

  it("a client's request past the limit rejects without retries", function()
    local k = key()
    core.http_configure {maxInCurl = 1}
    local c = client("/flaky/" .. k .. "/0/500", {httpOptions = {maxQueue = 0}, maxRetries = 3})
    assert.equal(0, core.http_stats().maxQueue)
    local first, second = c:call():promise(), c:call():promise()
    local _, err = support.settle(second)
    assert.equal("RequestQueueFullError", err.code)
    assert.equal(0, err.retryCount)
    assert.equal("fulfilled", (support.settle(first)))
    assert.equal(1, count(k))
  end)

  it("httpOptions.maxQueue is checked at construction", function()
    for _, bad in ipairs {-1, 1.5, 0 / 0, "10", 2 ^ 40} do
      local ok, err = pcall(client, "/ok", {httpOptions = {maxQueue = bad}})
      assert.is_false(ok)
      assert.equal("ConfigError", err.code, tostring(bad))
    end
  end)
end)

describe("an S3 key over S3's limit (defect 11)", function()
  local function s3_call(k, object_key)
    server.json("POST", "/_reply/" .. k, {status = 200, headers = {ETag = '"e"'}, body = ""})
    local c = AWS.S3 {endpoint = server.url .. "/record/" .. k, region = "us-east-1", s3ForcePathStyle = true,
      maxRetries = 0, credentials = {accessKeyId = "AKID", secretAccessKey = "s"}}
    return support.settle(c:putObject({Bucket = "bucket", Key = object_key, Body = "x"}):promise())
  end

  it("is refused before sending, naming the limit", function()
    local k = key()
    -- 342 three-byte characters: 1026 bytes of UTF-8 in 342 characters
    for _, long in ipairs {("k"):rep(1025), ("\u{20AC}"):rep(342), ("k"):rep(9000000)} do
      local state, err = s3_call(k, long)
      assert.equal("rejected", state)
      assert.equal("KeyTooLongError", err.code, err.message)
      assert.matches("1024 bytes", err.message)
      assert.matches(tostring(#long) .. " bytes long", err.message)
    end
    assert.same({}, server.json("GET", "/_recorded/" .. k))
  end)

  it("a key of exactly 1024 bytes is sent", function()
    local k = key()
    assert.equal("fulfilled", (s3_call(k, ("k"):rep(1023) .. "/")))
    assert.equal(1, #server.json("GET", "/_recorded/" .. k))
  end)
end)

describe("a URL over libcurl's limit (defect 11)", function()
  it("raises naming the limit, not 'refused' or 'out of memory'", function()
    local ok, err = pcall(core.http, {method = "GET", url = server.url .. "/ok?" .. ("q"):rep(8000000)})
    assert.is_false(ok)
    assert.equal("InvalidParameter", err.code)
    assert.matches("at most 8000000", err.message)
  end)
end)
