-- The request engine against a local fault server: retries and backoff, timeouts, network
-- errors, abort in every phase, the at-most-once rule, events, logging, signing end to end.
local AWS = require "awspromise"
local core = require "awspromise.core"
local retry = require "awspromise.retry"
local servers = require "support.servers"
local support = require "support.loop"

local SECRET = "fault-secret-key/EXAMPLE"

local MODEL = {
  metadata = {
    protocol = "json", jsonVersion = "1.1", targetPrefix = "Fault", endpointPrefix = "fault",
    signingName = "fault", apiVersion = "2020-01-01", serviceId = "Fault",
  },
  operations = {
    Call = {name = "Call", http = {method = "POST", requestUri = "/"},
      input = {shape = "CallInput"}, output = {shape = "CallOutput"}},
  },
  shapes = {
    CallInput = {type = "structure", members = {Value = {shape = "S"}}},
    CallOutput = {type = "structure", members = {
      ok = {shape = "B"}, attempt = {shape = "I"}, count = {shape = "I"},
      verified = {shape = "B"}, canonicalRequest = {shape = "S"},
    }},
    S = {type = "string"}, B = {type = "boolean"}, I = {type = "integer"},
  },
}

local server

local function client(path, options)
  local opts = {
    apiConfig = MODEL,
    endpoint = server.url .. path,
    region = "us-east-1",
    credentials = {accessKeyId = "AKIDFAULT", secretAccessKey = SECRET},
    retryDelayOptions = {base = 1},
  }
  for k, v in pairs(options or {}) do opts[k] = v end
  return AWS.Service(opts)
end

local function count(key)
  return client("/_count/" .. key):call():promise():await().count
end

local unique = 0
local function key()
  unique = unique + 1
  return "k" .. unique .. "x" .. os.time()
end

setup(function() server = servers.start("spec/support/fault_server.py") end)
teardown(function() server.stop() end)

describe("retries", function()
  it("retries 500s and succeeds, reporting the retry count", function()
    local k = key()
    local data = client("/flaky/" .. k .. "/2/500"):call():promise():await()
    assert.equal(3, data.attempt)
    assert.equal(2, data["$response"].retryCount)
    assert.equal(3, count(k))
  end)

  it("gives up after maxRetries with the last error, retryable and counted", function()
    local k = key()
    local state, err = support.settle(client("/flaky/" .. k .. "/10/503", {maxRetries = 2}):call():promise())
    assert.equal("rejected", state)
    assert.equal("InternalFailure", err.code)
    assert.equal(503, err.statusCode)
    assert.is_true(err.retryable)
    assert.equal(2, err.retryCount)
    assert.is_nil(err.retryDelay) -- the last error: no retry follows it
    assert.equal(3, count(k))
  end)

  it("retries every throttling code and 429", function()
    for _, code in ipairs {"Throttling", "ThrottlingException", "RequestLimitExceeded", "SlowDown",
                           "ProvisionedThroughputExceededException", "TooManyRequestsException",
                           "RequestThrottled"} do
      local k = key()
      local data = client("/throttle/" .. k .. "/1/" .. code):call():promise():await()
      assert.equal(2, data.attempt, code)
    end
  end)

  it("does not retry a client error", function()
    local k = key()
    local state, err = support.settle(client("/throttle/" .. k .. "/1/ValidationException"):call():promise())
    assert.equal("rejected", state)
    assert.equal("ValidationException", err.code)
    assert.is_false(err.retryable)
    assert.equal(1, count(k))
  end)

  it("defaults to 3 retries, 10 for DynamoDB, with bases of 100 and 50 ms", function()
    local c = client("/ok", {retryDelayOptions = false})
    c.config.retryDelayOptions = nil
    assert.equal(3, c:maxRetries())
    assert.equal(100, c:retryDelayOptions().base)
    c.serviceIdentifier = "dynamodb"
    assert.equal(10, c:maxRetries())
    assert.equal(50, c:retryDelayOptions().base)
  end)

  it("backs off with full jitter inside [0, min(20 s, base * 2^n)]", function()
    for n = 0, 12 do
      local ceiling = math.min(20000, 100 * 2 ^ n)
      local lo, hi = math.huge, 0
      for _ = 1, 300 do
        local d = retry.backoff({base = 100}, n)
        lo, hi = math.min(lo, d), math.max(hi, d)
      end
      assert.is_true(lo >= 0 and hi <= ceiling, ("n=%d: %g..%g over %g"):format(n, lo, hi, ceiling))
      assert.is_true(hi > ceiling / 2, "jitter should spread over the range")
    end
  end)

  it("waits the chosen delay between attempts and tells retry listeners", function()
    local k = key()
    local delays = {}
    local c = client("/flaky/" .. k .. "/2/500", {retryDelayOptions = {customBackoff = function(n)
      delays[#delays + 1] = n
      return 60
    end}})
    local retries = 0
    local started = os.time()
    local req = c:call():on("retry", function(response)
      retries = retries + 1
      assert.equal(60, response.error.retryDelay)
      assert.equal(retries, response.retryCount)
    end)
    local clock0 = core.parse_time and os.clock()
    local data = req:promise():await()
    assert.equal(3, data.attempt)
    assert.same({0, 1}, delays)
    assert.equal(2, retries)
    assert.is_true(os.time() - started <= 2)
    assert.is_true(os.clock() - clock0 < 0.5) -- waited on timers, did not spin
  end)

  it("a negative customBackoff means no retry", function()
    local k = key()
    local state, err = support.settle(client("/flaky/" .. k .. "/1/500",
      {retryDelayOptions = {customBackoff = function() return -1 end}}):call():promise())
    assert.equal("rejected", state)
    assert.equal(0, err.retryCount)
    assert.equal(1, count(k))
  end)

  it("refreshes expired credentials and retries with the new ones", function()
    local k = key()
    local gets = 0
    local provider = {get = function()
      gets = gets + 1
      return AWS.Promise.resolve({accessKeyId = "AKID" .. gets, secretAccessKey = SECRET})
    end}
    local data = client("/expired/" .. k, {credentials = provider}):call():promise():await()
    assert.equal(2, data.attempt)
    assert.equal(2, gets)
  end)

  it("corrects the signing clock from the server's Date with correctClockSkew", function()
    local k = key()
    local c = client("/skew/" .. k, {correctClockSkew = true})
    local data = c:call():promise():await()
    assert.equal(2, data.attempt)
    assert.is_true(math.abs(c.config.systemClockOffset / 1000 - 3600) < 10) -- milliseconds, as in JS v2
    local state, err = support.settle(client("/skew/" .. key()):call():promise())
    assert.equal("rejected", state)
    assert.equal("RequestTimeTooSkewed", err.code)
  end)
end)

describe("transport errors", function()
  it("a timeout per attempt gives a retryable TimeoutError", function()
    local c = client("/never", {maxRetries = 0, httpOptions = {timeout = 200}})
    local state, err = support.settle(c:call():promise())
    assert.equal("rejected", state)
    assert.equal("TimeoutError", err.code)
    assert.is_true(err.retryable)
  end)

  it("connectTimeout bounds the connection phase", function()
    local port = client("/_stallport"):call():promise():await().count
    local c = client("", {endpoint = "http://127.0.0.1:" .. port, maxRetries = 0,
      httpOptions = {connectTimeout = 250, timeout = 0}})
    local started = os.time()
    local state, err = support.settle(c:call():promise())
    assert.equal("rejected", state)
    assert.equal("TimeoutError", err.code)
    assert.matches("onnect", err.message)
    assert.is_true(os.time() - started <= 3)
  end)

  it("timeouts are retried, each attempt with its own timeout", function()
    local before = count("never")
    local c = client("/never", {maxRetries = 2, httpOptions = {timeout = 150}})
    local _, err = support.settle(c:call():promise())
    assert.equal("TimeoutError", err.code)
    assert.equal(2, err.retryCount)
    assert.equal(before + 3, count("never"))
  end)

  it("a connection reset mid-body is a retryable NetworkingError", function()
    local before = count("reset")
    local state, err = support.settle(client("/reset", {maxRetries = 1}):call():promise())
    assert.equal("rejected", state)
    assert.equal("NetworkingError", err.code)
    assert.is_true(err.retryable)
    assert.equal(before + 2, count("reset"))
  end)

  it("a refused connection is a retryable NetworkingError naming the host", function()
    local c = client("", {endpoint = "http://127.0.0.1:1", maxRetries = 0})
    local _, err = support.settle(c:call():promise())
    assert.equal("NetworkingError", err.code)
    assert.is_true(err.retryable)
    assert.equal("127.0.0.1", err.hostname)
  end)

  it("a name that does not resolve is UnknownEndpoint", function()
    -- a 70-character label fails in the local resolver: no DNS packet leaves the machine
    local c = client("", {endpoint = "http://" .. string.rep("a", 70) .. ".invalid", maxRetries = 0})
    local _, err = support.settle(c:call():promise())
    assert.equal("UnknownEndpoint", err.code)
  end)
end)

describe("integrity and proxies", function()
  it("a body that fails its x-amz-crc32 check is retried", function()
    local k = key()
    local data = client("/crc/" .. k):call():promise():await()
    assert.equal(2, data.attempt)
    local _, err = support.settle(client("/crc/" .. key(), {maxRetries = 0}):call():promise())
    assert.equal("CRC32CheckFailed", err.code)
    assert.is_true(err.retryable)
  end)

  it("goes through httpOptions.proxy", function()
    local before = count("_proxied")
    local c = client("", {endpoint = "http://service.proxied.test/ok", httpOptions = {proxy = server.url}})
    assert.is_true(c:call():promise():await().ok)
    assert.equal(before + 1, count("_proxied"))
  end)

  it("ignores http_proxy and friends in the environment, as JavaScript v2 does", function()
    -- a child process: this one's environment cannot be changed from Lua
    local code = [[
      local core = require("awspromise") and require "awspromise.core"
      local ok, res = pcall(function() return core.http({method = "GET", url = URL, headers = {}}):await() end)
      io.write(ok and tostring(res.statusCode) or tostring(res.message or res))
    ]]
    local closed = "http://127.0.0.1:9"
    local p = io.popen("env http_proxy=" .. closed .. " HTTP_PROXY=" .. closed .. " ALL_PROXY=" .. closed
      .. " LUA_PATH=" .. support.quote(package.path) .. " LUA_CPATH=" .. support.quote(package.cpath)
      .. " lua5.4 -e " .. support.quote(string.format("local URL = %q\n", server.url .. "/ok") .. code) .. " 2>&1")
    local out = p:read("a")
    p:close()
    assert.equal("200", out)
  end)
end)

describe("abort", function()
  local aborted = "RequestAbortedError"

  it("before the request starts", function()
    local req = client("/ok"):call()
    req:abort()
    local state, err = support.settle(req:promise())
    assert.same({"rejected", aborted}, {state, err.code})
  end)

  it("right after promise() in the same turn: nothing reaches the server", function()
    local k = key()
    local req = client("/flaky/" .. k .. "/0/500"):call()
    local p = req:promise()
    req:abort()
    assert.equal("rejected", p:state())
    local _, err = support.settle(p)
    assert.equal(aborted, err.code)
    assert.equal(0, count(k))
  end)

  it("while resolving credentials", function()
    local never = {get = function() return AWS.Promise.new(function() end) end}
    local req = client("/ok", {credentials = never}):call()
    local p = req:promise()
    AWS.loop.step(0)
    assert.equal("credentials", req.state)
    req:abort()
    assert.equal("rejected", p:state())
    assert.equal("RequestAbortedError", select(2, support.settle(p)).code)
  end)

  it("while transferring, settling at once and freeing the connection", function()
    local req = client("/never"):call()
    local p = req:promise()
    AWS.util.delay(50):next(function() req:abort() end)
    local started = os.time()
    local state, err = support.settle(p)
    assert.same({"rejected", aborted}, {state, err.code})
    assert.is_true(os.time() - started <= 2)
    assert.equal(0, core.http_stats().active)
  end)

  it("while waiting to retry, cancelling the timer", function()
    local k = key()
    local req = client("/flaky/" .. k .. "/5/500",
      {retryDelayOptions = {customBackoff = function() return 30000 end}}):call()
    req:on("retry", function() AWS.util.delay(1):next(function() req:abort() end) end)
    local started = os.time()
    local state, err = support.settle(req:promise())
    assert.same({"rejected", aborted}, {state, err.code})
    assert.is_true(os.time() - started <= 2, "the 30 s retry timer must not hold the loop")
    assert.equal(1, count(k))
  end)

  it("after completion changes nothing", function()
    local req = client("/ok"):call()
    local data = req:promise():await()
    req:abort()
    assert.equal("fulfilled", req:promise():state())
    assert.is_true(data.ok)
  end)
end)

describe("at most once", function()
  it("promise() twice returns the same promise and sends once", function()
    local k = key()
    local req = client("/flaky/" .. k .. "/0/500"):call()
    assert.equal(req:promise(), req:promise())
    req:promise():await()
    assert.equal(1, count(k))
  end)

  it("send(cb) after promise() and promise() after send(cb) share one result", function()
    local k = key()
    local req = client("/flaky/" .. k .. "/0/500"):call()
    local p = req:promise()
    local got
    req:send(function(err, data) got = {err, data} end)
    local data = p:await()
    AWS.run()
    assert.is_nil(got[1])
    assert.equal(data, got[2])
    local k2 = key()
    local req2 = client("/flaky/" .. k2 .. "/0/500"):call()
    local cb_data
    req2:send(function(_, d) cb_data = d end)
    local d2 = req2:promise():await()
    AWS.run()
    assert.equal(d2, cb_data)
    assert.equal(1, count(k))
    assert.equal(1, count(k2))
  end)

  it("a callback argument to the operation sends at once", function()
    local result
    client("/ok"):call({}, function(err, data) result = {err, data} end)
    AWS.run()
    assert.is_nil(result[1])
    assert.is_true(result[2].ok)
  end)
end)

describe("events and logging", function()
  it("fires build, sign, send, retry, success and complete in order", function()
    local k = key()
    local order = {}
    local req = client("/flaky/" .. k .. "/1/500"):call()
    for _, e in ipairs {"validate", "build", "sign", "send", "retry", "success", "error", "complete"} do
      req:on(e, function() order[#order + 1] = e end)
    end
    req:promise():await()
    assert.same({"validate", "build", "sign", "send", "retry", "sign", "send", "success", "complete"}, order)
  end)

  it("fires error and complete on failure, with the error", function()
    local seen
    local req = client("/throttle/" .. key() .. "/1/AccessDenied"):call()
    req:on("error", function(err) seen = err end)
    local _, err = support.settle(req:promise())
    assert.equal(err, seen)
  end)

  it("a build listener may change the request before it is signed", function()
    local req = client("/verify/" .. SECRET):call()
    req:on("build", function(r) r.httpRequest.headers["X-Amz-Meta-Added"] = "yes" end)
    local data = req:promise():await()
    assert.is_true(data.verified)
  end)

  it("refuses unknown events and non-callable listeners", function()
    local req = client("/ok"):call()
    assert.has_error(function() req:on("nope", print) end)
    assert.has_error(function() req:on("success", 5) end)
  end)

  it("logs one line per request without secrets or bodies", function()
    local lines = {}
    local c = client("/flaky/" .. key() .. "/1/500", {logger = {write = function(_, l) lines[#lines + 1] = l end}})
    c:call({Value = "body-content-here"}):promise():await()
    assert.equal(1, #lines)
    assert.matches("^%[AWS fault 200 [%d.]+s 1 retries%] Call\n$", lines[1])
    assert.not_matches(SECRET, lines[1], 1, true)
    assert.not_matches("body-content-here", lines[1], 1, true)
    local fn_lines = {}
    client("/ok", {logger = function(l) fn_lines[#fn_lines + 1] = l end}):call():promise():await()
    assert.equal(1, #fn_lines)
  end)

  it("reports upload and download progress", function()
    local ups, downs = {}, {}
    local req = client("/ok"):call({Value = string.rep("x", 200000)})
    req:on("httpUploadProgress", function(p) ups[#ups + 1] = p end)
    req:on("httpDownloadProgress", function(p) downs[#downs + 1] = p end)
    req:promise():await()
    AWS.run()
    assert.is_true(#ups >= 1)
    assert.is_true(ups[#ups].loaded >= 200000)
    assert.equal(ups[#ups].total, ups[#ups].loaded)
    assert.is_true(#downs >= 1)
  end)
end)

describe("signing, connections and concurrency", function()
  it("signs so that an independent signer (botocore) agrees", function()
    local data = client("/verify/" .. SECRET):call({Value = "signed body"}):promise():await()
    assert.is_true(data.verified)
    assert.matches("x%-amz%-target", data.canonicalRequest)
  end)

  it("a wrong secret is refused by the independent check", function()
    local state, err = support.settle(client("/verify/not-the-secret"):call():promise())
    assert.equal("rejected", state)
    assert.equal("SignatureDoesNotMatch", err.code)
    assert.equal(403, err.statusCode)
  end)

  it("keeps connections alive and reuses them", function()
    local before = count("_connections")
    local c = client("/ok")
    for _ = 1, 10 do c:call():promise():await() end
    local opened = count("_connections") - before
    assert.is_true(opened <= 2, "opened " .. opened .. " connections for 10 sequential calls")
  end)

  it("opens at most httpOptions.maxSockets connections per host", function()
    local c = client("/delay/150", {httpOptions = {maxSockets = 3}})
    local list = {}
    for i = 1, 9 do list[i] = c:call():promise() end
    AWS.Promise.all(list):await()
    core.http_configure{maxSockets = 50}
    local most = client("/_concurrency"):call():promise():await().count
    assert.is_true(most <= 3, "saw " .. most .. " at once")
  end)

  it("queues requests past what libcurl holds, signing each when it starts", function()
    core.http_configure{maxInCurl = 2}
    local c = client("/delay/40")
    local list, most = {}, 0
    for i = 1, 8 do
      list[i] = c:call():promise()
      most = math.max(most, core.http_stats().inCurl)
    end
    local waiting = c:call()
    local waiting_p = waiting:promise()
    waiting:abort()
    assert.equal("rejected", waiting_p:state())
    local ticker
    local function sample()
      most = math.max(most, core.http_stats().inCurl)
      if AWS.Promise.is(list[8]) and list[8]:state() == "pending" then ticker = AWS.util.delay(5):next(sample) end
    end
    sample()
    local values = AWS.Promise.all(list):await()
    core.http_configure{maxInCurl = 256}
    assert.equal(8, #values)
    assert.is_true(most <= 2, "libcurl held " .. most)
    assert.equal("RequestAbortedError", select(2, support.settle(waiting_p)).code)
    assert.is_not_nil(ticker)
  end)

  it("settles 300 concurrent calls", function()
    local c = client("/ok")
    local list = {}
    for i = 1, 300 do list[i] = c:call():promise() end
    local values = AWS.Promise.all(list):await()
    assert.equal(300, #values)
    for i = 1, 300 do assert.is_true(values[i].ok) end
  end)
end)

describe("core.http options and completion", function()
  local function engine_counts()
    local s = core.http_stats()
    return {pooled = s.pooledHandles, active = s.active, queued = s.queued, inCurl = s.inCurl}
  end

  -- A bad option must raise before any curl handle is taken, whether the transfer would start
  -- at once (the engine idle) or wait in the queue (libcurl full).
  local function refused(opts)
    local before = engine_counts()
    local ok, err = pcall(core.http, opts)
    assert.is_false(ok)
    assert.same(before, engine_counts())
    return err
  end

  local function bad_timeout()
    return {method = "POST", url = server.url .. "/ok", body = "{}", httpOptions = {timeout = -1}}
  end

  it("raises for a bad option without taking a handle, the same whether idle or queued", function()
    core.http {method = "POST", url = server.url .. "/ok", body = "{}"}:await() -- a handle in the pool
    assert.is_true(core.http_stats().pooledHandles >= 1)
    local idle_err = refused(bad_timeout())
    assert.equal("InvalidParameter", idle_err.code)
    assert.matches("httpOptions%.timeout", idle_err.message)

    core.http_configure{maxInCurl = 1}
    local slow = core.http {method = "POST", url = server.url .. "/delay/300", body = "{}"}
    local waiting = core.http {method = "POST", url = server.url .. "/ok", body = "{}"}
    assert.equal(1, core.http_stats().queued)
    local queued_err = refused(bad_timeout())
    core.http_configure{maxInCurl = 256}
    assert.same({idle_err.code, idle_err.message}, {queued_err.code, queued_err.message})
    assert.equal(200, slow:await().statusCode)
    assert.equal(200, waiting:await().statusCode)
  end)

  it("names the option at fault", function()
    local url = server.url .. "/ok"
    local cases = {
      {{url = url, httpOptions = {connectTimeout = "soon"}}, "httpOptions%.connectTimeout must be a number"},
      {{url = url, timeout = -5}, "opts%.timeout must be a number of milliseconds"},
      {{url = url, proxy = 5}, "opts%.proxy must be a string"},
      {{url = url, headers = {["X-A"] = "a\r\nb"}}, "header 'X%-A' has a CR"},
      {{url = url, sign = {accessKeyId = "a", secretAccessKey = "b", region = 1, service = "s"}}, "opts%.sign%.region must be a string"},
      {{url = url, onUploadProgress = 5}, "opts%.onUploadProgress must be a function"},
      {{url = "not a url"}, "not an absolute http%(s%) URL"},
    }
    for _, case in ipairs(cases) do
      local err = refused(case[1])
      assert.equal("InvalidParameter", err.code)
      assert.matches(case[2], err.message)
    end
  end)

  it("a client with a bad httpOption rejects each request and keeps the pool", function()
    local c = client("/ok", {httpOptions = {timeout = -1}, maxRetries = 0})
    local before = engine_counts()
    local state, err = support.settle(c:call():promise())
    assert.same({"rejected", "InvalidParameter"}, {state, err.code})
    assert.matches("httpOptions%.timeout", err.message)
    assert.same(before, engine_counts())
  end)

  it("with a completion function: one job calls done(ctx, result), never inside the call", function()
    local ctx, calls = {}, {}
    local function done(c, result) calls[#calls + 1] = {c, result} end
    local handle = core.http({method = "POST", url = server.url .. "/ok", body = "{}"}, done, ctx)
    assert.is_true(handle:active())
    assert.equal(0, #calls)
    AWS.run()
    assert.equal(1, #calls)
    assert.equal(ctx, calls[1][1])
    assert.equal(200, calls[1][2].statusCode)

    calls = {}
    core.http({url = "http://127.0.0.1:1/"}, done, ctx)
    AWS.run()
    assert.equal(1, #calls)
    assert.equal(core.error_metatable, getmetatable(calls[1][2]))
    assert.equal("NetworkingError", calls[1][2].code)

    calls = {}
    local never = core.http({method = "POST", url = server.url .. "/never", body = "{}"}, done, ctx)
    assert.is_true(never:abort())
    assert.equal(0, #calls)
    AWS.run()
    assert.equal(1, #calls)
    assert.equal("RequestAbortedError", calls[1][2].code)
  end)

  it("core.http_signing(sign) signs exactly as the sign table does, checked once", function()
    local sign = {accessKeyId = "AKIDFAULT", secretAccessKey = SECRET, region = "us-east-1", service = "fault",
      time = os.time() - 5}
    local function verify(with)
      local res = core.http {method = "POST", url = server.url .. "/verify/" .. SECRET, body = "{}", sign = with}
        :await()
      return res.statusCode, core.json_decode(res.body)
    end
    local table_status, by_table = verify(sign)
    local signing = core.http_signing(sign)
    sign.secretAccessKey = "changed after the call" -- the userdata kept its own copy
    local udata_status, by_udata = verify(signing)
    assert.same({200, 200}, {table_status, udata_status})
    assert.is_true(by_udata.verified)
    assert.equal(by_table.canonicalRequest, by_udata.canonicalRequest)
    local ok, err = pcall(core.http_signing, {accessKeyId = "a", secretAccessKey = "b", region = "r", service = {}})
    assert.is_false(ok)
    assert.equal("InvalidParameter", err.code)
    assert.matches("opts%.sign%.service must be a string", err.message)
  end)

  it("an error raised while a response is handled settles the request", function()
    local c = client("/flaky/" .. key() .. "/3/500",
      {retryDelayOptions = {customBackoff = function() error("backoff exploded") end}})
    local state, err = support.settle(c:call():promise())
    assert.equal("rejected", state)
    assert.matches("backoff exploded", tostring(err.message or err))
  end)
end)

describe("core.http response streaming (onHeaders, onBody)", function()
  local streams
  local PATTERN = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"
  local CHUNK_BOUND = 128 * 1024 -- the engine's 64 KiB high water plus one libcurl callback

  setup(function() streams = servers.start("spec/support/stream_server.py") end)
  teardown(function() streams.stop() end)

  -- Whether chunk is the stream server's pattern at offset (its byte i is PATTERN[i % 61]).
  local function pattern_at(offset, chunk)
    local start = offset % #PATTERN
    local reps = (start + #chunk) // #PATTERN + 1
    return PATTERN:rep(reps):sub(start + 1, start + #chunk) == chunk
  end

  local function sent(key)
    return core.json_decode(streams.request("GET", "/_sent/" .. key).body).sent
  end

  it("tells the final head once, then the body in order, then done with an empty body", function()
    local events, received, intact = {}, 0, true
    local ctx = {}
    local handle = core.http({url = streams.url .. "/bytes/order/300000",
      onHeaders = function(c, head)
        assert.equal(ctx, c)
        events[#events + 1] = {"head", head.statusCode, head.headers["content-length"]}
      end,
      onBody = function(c, chunk)
        assert.equal(ctx, c)
        if #events == 0 or events[#events][1] ~= "body" then events[#events + 1] = {"body"} end
        intact = intact and pattern_at(received, chunk)
        received = received + #chunk
      end,
    }, function(c, result)
      events[#events + 1] = {"done", c == ctx, result.statusCode, result.body}
    end, ctx)
    assert.is_true(handle:active())
    AWS.run()
    assert.same({{"head", 200, "300000"}, {"body"}, {"done", true, 200, ""}}, events)
    assert.equal(300000, received)
    assert.is_true(intact)
  end)

  it("onHeaders alone leaves the body in the result", function()
    local head
    local result = core.http {url = streams.url .. "/bytes/headonly/1000",
      onHeaders = function(_, h) head = h end}:await()
    assert.equal(200, head.statusCode)
    assert.equal("application/octet-stream", head.headers["content-type"])
    assert.equal(1000, #result.body)
    assert.is_true(pattern_at(0, result.body))
  end)

  it("pauses receiving while onBody says false, in bounded chunks, until resume()", function()
    local total = 32 * 1024 * 1024
    local received, largest, calls, paused_at = 0, 0, 0, nil
    local handle
    handle = core.http({url = streams.url .. "/bytes/slow/" .. total,
      onBody = function(_, chunk)
        calls = calls + 1
        received = received + #chunk
        largest = math.max(largest, #chunk)
        if calls == 1 then paused_at = received return false end
      end}, function() end)
    AWS.util.delay(400):await()
    assert.equal(1, calls) -- nothing delivered while paused
    local sent_while_paused = sent("slow")
    assert.is_true(sent_while_paused < total / 2, "the server sent " .. sent_while_paused .. " bytes to a paused reader")
    assert.is_true(handle:resume())
    AWS.run()
    assert.equal(total, received)
    assert.is_true(paused_at <= CHUNK_BOUND)
    assert.is_true(largest <= CHUNK_BOUND, "a chunk of " .. largest .. " bytes")
    assert.is_false(handle:resume()) -- finished
  end)

  it("a raising onBody ends the transfer and done gets that error", function()
    local outcome
    core.http({url = streams.url .. "/bytes/raise/500000",
      onBody = function() error("disk full") end},
      function(_, result) outcome = result end)
    AWS.run()
    assert.equal(core.error_metatable, getmetatable(outcome))
    assert.equal("ResponseStreamError", outcome.code)
    assert.matches("disk full", outcome.message)
    assert.is_false(outcome.retryable)
  end)

  it("an awspromise.Error raised by onHeaders reaches the promise as is, and no chunk follows", function()
    local chunks = 0
    local state, err = support.settle(core.http {url = streams.url .. "/bytes/raisehead/1000",
      onHeaders = function() error(AWS.Promise.make_error("NoSuchKey", "gone")) end,
      onBody = function() chunks = chunks + 1 end})
    assert.same({"rejected", "NoSuchKey", "gone", 0}, {state, err.code, err.message, chunks})
  end)

  it("a streamed transfer can be aborted from onBody", function()
    local outcome, chunks = nil, 0
    local handle
    handle = core.http({url = streams.url .. "/bytes/abort/5000000",
      onBody = function() chunks = chunks + 1 handle:abort() end},
      function(_, result) outcome = result end)
    AWS.run()
    assert.equal(1, chunks)
    assert.equal("RequestAbortedError", outcome.code)
  end)

  it("refuses a non-function onBody or onHeaders", function()
    for _, field in ipairs {"onBody", "onHeaders"} do
      local ok, err = pcall(core.http, {url = streams.url .. "/bytes/x/1", [field] = true})
      assert.is_false(ok)
      assert.equal("InvalidParameter", err.code)
      assert.matches("opts%." .. field .. " must be a function", err.message)
    end
  end)
end)
