-- Event-stream replies end to end: Bedrock converseStream, S3 selectObjectContent and Lambda
-- invokeWithResponseStream against tools/eventstream_fixture.py, whose messages are built with
-- Python's struct and zlib.crc32 (not with the C code under test) and paced by sleeps.
local AWS = require "awspromise"
local core = require "awspromise.core"
local servers = require "support.servers"
local support = require "support.loop"

local CREDS = {accessKeyId = "AKIDEXAMPLE", secretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
-- the fixture's Bedrock reply, one delta per word
local REPLY = "Event streams deliver a model's answer token by token, so a script can print each word "
  .. "the moment it is generated instead of waiting for the whole reply."

local fixture
local streaming -- the engine hands bodies over as they arrive (onHeaders/onBody)

setup(function()
  fixture = servers.start("tools/eventstream_fixture.py")
  local seen = false
  core.http({method = "GET", url = fixture.url .. "/_stats", headers = {}, proxy = "",
    onBody = function() seen = true end}, function() end, nil)
  AWS.run()
  streaming = seen
end)
teardown(function() fixture.stop() end)

local function needs_streaming()
  if not streaming then
    pending("the HTTP engine does not hand over bodies as they arrive yet (core.http onHeaders/onBody)")
    return true
  end
end

local function options(extra)
  local o = {region = "us-east-1", credentials = CREDS, endpoint = fixture.url, maxRetries = 0}
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local function converse(model)
  return AWS.BedrockRuntime(options()):converseStream({modelId = model,
    messages = {{role = "user", content = {{text = "Why stream?"}}}}})
end

local function stats()
  return fixture.json("GET", "/_stats")
end

-- The fixture notices a client that went away at its next write (within its pause).
local function disconnected_since(before)
  for _ = 1, 30 do
    if stats().disconnected > before then return true end
    AWS.util.delay(100):await()
  end
  return false
end

local function text_of(events)
  local parts = {}
  for _, ev in ipairs(events) do
    if ev.contentBlockDelta then parts[#parts + 1] = ev.contentBlockDelta.delta.text end
  end
  return table.concat(parts)
end

describe("Bedrock converseStream", function()
  it("fulfils with a stream whose events are the union's members, in order", function()
    local data = converse("chat"):promise():await()
    assert.equal("AWS.EventStream", tostring(data.stream):match("^[%w.]+"))
    local events = {}
    for ev in data.stream:events() do events[#events + 1] = ev end
    assert.same({messageStart = {role = "assistant"}}, events[1])
    assert.equal(REPLY, text_of(events))
    assert.same({contentBlockStop = {contentBlockIndex = 0}}, events[#events - 2])
    assert.same({messageStop = {stopReason = "end_turn"}}, events[#events - 1])
    local metadata = events[#events].metadata
    assert.equal(321, metadata.metrics.latencyMs)
    assert.equal(12 + #events - 4, metadata.usage.totalTokens)
    assert.equal("fixture-request", data["$response"].requestId)
  end)

  it("delivers data events through :on and then end, in the JS v2 way", function()
    local data = converse("chat"):promise():await()
    local events, ended, errors = {}, 0, 0
    data.stream:on("data", function(ev) events[#events + 1] = ev end)
    data.stream:on("end", function() ended = ended + 1 end)
    data.stream:on("error", function() errors = errors + 1 end)
    AWS.run()
    assert.equal(REPLY, text_of(events))
    assert.equal(1, ended)
    assert.equal(0, errors)
  end)

  it("fulfils at the head and delivers the first event before the last is sent", function()
    if needs_streaming() then return end
    local start = core.now()
    local data = converse("chat"):promise():await()
    local fulfilled = core.now() - start
    local first, last
    data.stream:on("data", function()
      first = first or core.now()
      last = core.now()
    end)
    AWS.run()
    -- about 30 events 150 ms apart: a stream delivered only at its end would come in one burst
    assert.is_true(fulfilled < 1000, "fulfilled after " .. fulfilled .. " ms")
    assert.is_true(last - first > 2000, "events spread over " .. (last - first) .. " ms")
  end)

  it("ends with the modeled throttlingException sent mid-stream", function()
    local data = converse("throttle"):promise():await()
    local events = {}
    local state, err = support.settle(AWS.async(function()
      for ev in data.stream:events() do events[#events + 1] = ev end
    end))
    assert.equal("rejected", state)
    assert.equal("throttlingException", err.code)
    assert.equal("Too many tokens, please wait.", err.message)
    assert.equal(3, #events)
    assert.equal("Hello there", text_of(events))
  end)

  it("rejects all() with the error and tells error listeners", function()
    local data = converse("throttle"):promise():await()
    local told
    data.stream:on("error", function(err) told = err end)
    local state, err = support.settle(data.stream:all())
    assert.equal("rejected", state)
    assert.equal("throttlingException", err.code)
    assert.equal(err, told)
  end)

  it("ends the stream with an error at a corrupted CRC, after the good events", function()
    local data = converse("badcrc"):promise():await()
    local state, err = support.settle(data.stream:all())
    assert.equal("rejected", state)
    assert.equal("EventStreamError", err.code)
    assert.matches("CRC mismatch", err.message)
    local events = {}
    data.stream:on("data", function(ev) events[#events + 1] = ev end)
    AWS.run()
    assert.same({}, events) -- nothing after the error
  end)

  it("rejects the request when the reply is an error, with the service's code", function()
    local state, err = support.settle(converse("no-such-model"):promise())
    assert.equal("rejected", state)
    assert.equal("ResourceNotFoundException", err.code)
    assert.equal(404, err.statusCode)
  end)

  it("abort() mid-stream ends the transfer and frees its connection", function()
    if needs_streaming() then return end
    local before = stats().disconnected
    local req = converse("slow")
    local data = req:promise():await()
    local count = 0
    data.stream:on("data", function()
      count = count + 1
      if count == 3 then req:abort() end
    end)
    AWS.run()
    assert.equal(3, count)
    assert.equal(0, core.http_stats().active)
    assert.is_true(disconnected_since(before), "the fixture saw the client go away")
  end)

  it("close() on the stream stops the iterator and frees the connection", function()
    if needs_streaming() then return end
    local before = stats().disconnected
    local data = converse("slow"):promise():await()
    local seen = 0
    for _ in data.stream:events() do
      seen = seen + 1
      if seen == 2 then data.stream:close() end
    end
    assert.equal(2, seen)
    assert.equal(0, core.http_stats().active)
    assert.is_true(disconnected_since(before), "the fixture saw the client go away")
  end)
end)

describe("S3 selectObjectContent", function()
  local function select(key)
    return AWS.S3(options({s3ForcePathStyle = true})):selectObjectContent({Bucket = "bucket", Key = key,
      Expression = "select * from s3object", ExpressionType = "SQL",
      InputSerialization = {CSV = {}}, OutputSerialization = {CSV = {}}}):promise():await()
  end

  it("gives Records bytes, Progress and Stats details read from XML, then End", function()
    local data = select("records")
    local events = data.Payload:all():await()
    assert.same({
      {Records = {Payload = "id,name\n0,row0\n"}},
      {Records = {Payload = "id,name\n1,row1\n"}},
      {Records = {Payload = "id,name\n2,row2\n"}},
      {Progress = {Details = {BytesScanned = 42, BytesProcessed = 42, BytesReturned = 42}}},
      {Stats = {Details = {BytesScanned = 42, BytesProcessed = 42, BytesReturned = 42}}},
      {End = {}},
    }, events)
  end)

  it("reads a large stream with the memory of a few messages", function()
    if needs_streaming() then return end
    local size = 32 * 1024 * 1024
    local data = select("big-" .. size)
    collectgarbage()
    local base, peak, bytes, events = collectgarbage("count"), 0, 0, 0
    data.Payload:on("data", function(ev)
      if ev.Records then bytes = bytes + #ev.Records.Payload end
      events = events + 1
      -- what stays reachable, measured after a full collection every 64 events
      if events % 64 == 0 then
        collectgarbage()
        peak = math.max(peak, collectgarbage("count") - base)
      end
    end)
    AWS.run()
    assert.equal(size, bytes)
    assert.is_true(peak < 2 * 1024, ("Lua heap grew by %.0f KiB"):format(peak))
  end)
end)

describe("Lambda invokeWithResponseStream", function()
  it("gives the head's members, PayloadChunk bytes and InvokeComplete's error code", function()
    local data = AWS.Lambda(options()):invokeWithResponseStream({FunctionName = "fn"}):promise():await()
    assert.equal(200, data.StatusCode)
    assert.equal("$LATEST", data.ExecutedVersion)
    assert.equal("application/vnd.amazon.eventstream", data.ResponseStreamContentType)
    local events = data.EventStream:all():await()
    assert.equal(4, #events)
    for i = 1, 3 do assert.same({PayloadChunk = {Payload = '{"part": ' .. (i - 1) .. '}'}}, events[i]) end
    assert.same({InvokeComplete = {ErrorCode = "Unhandled", ErrorDetails = "boom", LogResult = "bG9ncw=="}},
      events[4])
  end)
end)
