-- Issue 10, the parts that need no server: settings checked at configuration time, timers that
-- cannot overflow, backoff that cannot go NaN, credentials and bucket names refused early.
local AWS = require "awspromise"
local core = require "awspromise.core"
local retry = require "awspromise.retry"
local settings = require "awspromise.settings"
local support = require "support.loop"

local function config_error(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected a ConfigError")
  assert.equal("ConfigError", err.code, tostring(err.message or err))
  return err
end

describe("settings.check", function()
  it("refuses maxRetries that is not a whole number in range", function()
    for _, v in ipairs {"2", 0 / 0, -1, 1.5, math.huge, settings.MAX_RETRIES + 1} do
      local err = config_error(settings.check, {maxRetries = v}, "here")
      assert.matches("^here: maxRetries must be", err.message)
    end
    settings.check({maxRetries = 0}, "here")
    settings.check({maxRetries = 3.0}, "here")
  end)

  it("says NaN for NaN and quotes a string", function()
    assert.matches("got NaN", config_error(settings.check, {maxRetries = 0 / 0}, "x").message)
    assert.matches('got the string "2"', config_error(settings.check, {maxRetries = "2"}, "x").message)
  end)

  it("refuses timeouts that are NaN, not numbers or past 2^31 - 1 ms", function()
    for _, v in ipairs {0 / 0, 2 ^ 70, math.huge, "100"} do
      config_error(settings.check, {httpOptions = {timeout = v}}, "x")
      config_error(settings.check, {httpOptions = {connectTimeout = v}}, "x")
    end
    settings.check({httpOptions = {timeout = 0, connectTimeout = settings.MAX_TIMEOUT_MS}}, "x")
  end)

  it("refuses retryDelayOptions with a NaN base or a customBackoff that cannot be called", function()
    config_error(settings.check, {retryDelayOptions = {base = 0 / 0}}, "x")
    config_error(settings.check, {retryDelayOptions = {cap = -5}}, "x")
    config_error(settings.check, {retryDelayOptions = {customBackoff = "fast"}}, "x")
    settings.check({retryDelayOptions = {customBackoff = setmetatable({}, {__call = function() return 1 end})}}, "x")
  end)

  it("runs for AWS.config:update before anything is merged", function()
    local before = AWS.config.maxRetries
    config_error(AWS.config.update, AWS.config, {maxRetries = 0 / 0})
    assert.equal(before, AWS.config.maxRetries)
  end)

  it("runs at client construction over the merged options (AWS.config assigned directly)", function()
    local model = {metadata = {protocol = "json", endpointPrefix = "x", apiVersion = "1"}, operations = {},
      shapes = {}}
    local saved = AWS.config.maxRetries
    AWS.config.maxRetries = 0 / 0
    local ok, err = pcall(AWS.Service, {apiConfig = model, region = "us-east-1"})
    AWS.config.maxRetries = saved
    assert.same({false, "ConfigError"}, {ok, err.code})
  end)
end)

describe("retry.backoff", function()
  it("treats a customBackoff answer of NaN like a negative one: no retry", function()
    assert.is_nil(retry.backoff({customBackoff = function() return 0 / 0 end}, 0))
    assert.is_nil(retry.backoff({customBackoff = function() return -1 end}, 0))
    assert.equal(7, retry.backoff({customBackoff = function() return 7 end}, 0))
  end)
end)

describe("timers past 2^53 microseconds", function()
  it("delay(2^70) and delay(math.huge) do not fire at once", function()
    local out = support.run_script [[
      local AWS = require "awspromise"
      local fired = {}
      AWS.util.delay(2 ^ 70):next(function() fired[#fired + 1] = "2^70" end)
      AWS.util.delay(math.huge):next(function() fired[#fired + 1] = "huge" end)
      AWS.util.delay(1e300):next(function() fired[#fired + 1] = "1e300" end)
      local done = false
      AWS.util.delay(50):next(function() done = true end)
      local core = require "awspromise.core"
      while not done do core.step(100) end
      core.step(0)
      io.write("fired:", table.concat(fired, ","), "\n")
      io.stdout:flush()
      os.exit(0, false) -- the far timers keep the loop alive: leave without draining it
    ]]
    assert.equal("fired:\n", out)
  end)
end)

describe("credentials.normalize", function()
  it("refuses CR, LF and NUL in every field, naming the field but not its value", function()
    for field, bad in pairs {accessKeyId = "A\rB", secretAccessKey = "s\ns", sessionToken = "t\0t"} do
      local raw = {accessKeyId = "AKID", secretAccessKey = "secret", sessionToken = "token"}
      raw[field] = bad
      local creds, why = require("awspromise.credentials").normalize(raw, "test")
      assert.is_nil(creds)
      assert.equal(field .. " contains a CR, LF or NUL character", why)
    end
    assert.truthy(require("awspromise.credentials").normalize({accessKeyId = "AKID", secretAccessKey = "s"}, "test"))
  end)
end)

describe("s3.address bucket names", function()
  local s3 = require "awspromise.s3"
  local endpoint = {protocol = "https", hostname = "s3.amazonaws.com"}
  it("refuses dot segments and names with a slash", function()
    for _, bucket in ipairs {".", "..", "a/b", "../etc"} do
      local err = config_error(s3.address, endpoint, bucket, "/" .. bucket .. "/k", nil)
      assert.matches("is not a bucket name", err.message)
    end
  end)

  it("still takes names with dots that are not dot segments", function()
    local address = s3.address(endpoint, "my.bucket", "/my.bucket/k", nil)
    assert.equal("path", address.style)
    assert.equal("s3.amazonaws.com", s3.address(endpoint, "...", "/.../k", nil).hostname)
  end)
end)

describe("core.report_error", function()
  it("hands the error to AWS.config.onUncaughtError", function()
    local saved = AWS.config.onUncaughtError
    local got
    AWS.config.onUncaughtError = function(err, what) got = {err, what} end
    core.report_error("boom", "a test")
    AWS.config.onUncaughtError = saved
    assert.same({"boom", "a test"}, got)
  end)
end)

describe("timestamps outside years 1 to 9999 (found by fuzz/time_fuzz.c)", function()
  it("are not read from text", function()
    assert.is_nil(core.parse_time("1e300"))
    assert.is_nil(core.parse_time("253402300800"))
    assert.equal(253402300799, core.parse_time("9999-12-31T23:59:59Z"))
  end)

  it("are refused as parameters instead of formatting garbage", function()
    local model = core.model_load [[{"metadata": {"protocol": "json", "jsonVersion": "1.1",
      "targetPrefix": "T", "endpointPrefix": "t", "apiVersion": "1"},
      "operations": {"Op": {"name": "Op", "http": {"method": "POST", "requestUri": "/"},
        "input": {"shape": "In"}}},
      "shapes": {"In": {"type": "structure", "members": {"When": {"shape": "Time"}}},
        "Time": {"type": "timestamp", "timestampFormat": "iso8601"}}}]]
    local op = core.operation(model, "Op")
    assert.is_nil(core.validate(op, {When = 1e9}))
    local err = core.validate(op, {When = 1e300})
    assert.equal("InvalidParameterType", err.code)
    assert.matches("When", err.message)
  end)
end)
