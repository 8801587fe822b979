-- The numeric and callable settings of AWS.config and of a client's options, checked when they
-- are given: a NaN, an infinity or a string in maxRetries or a timeout would otherwise surface
-- inside an attempt (a retry loop without end, a timeout that never fires).
--
--   settings.check(options, where)  raises ConfigError naming `where` and the setting
--   settings.MAX_RETRIES            the largest maxRetries accepted (1000)
--   settings.MAX_TIMEOUT_MS         the largest timeout or connectTimeout accepted (2^31 - 1 ms,
--                                   about 24.8 days; 0 means no timeout, as in libcurl)
--   settings.MAX_QUEUE              the largest httpOptions.maxQueue accepted (2^31 - 1 requests)
local make_error = require("awspromise.promise").make_error

local settings = {MAX_RETRIES = 1000, MAX_TIMEOUT_MS = 2 ^ 31 - 1, MAX_QUEUE = 2 ^ 31 - 1}

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and type(mt.__call) == "function"
end

local function describe(v)
  if v ~= v then return "NaN" end
  if type(v) == "number" then return tostring(v) end
  if type(v) == "string" then return ("the string %q"):format(v) end
  return type(v)
end

local function refuse(where, name, rule, v)
  error(make_error("ConfigError", ("%s: %s must be %s, got %s"):format(where, name, rule, describe(v))), 0)
end

-- A number in [min, max] (NaN fails both comparisons); whole when `whole` is set.
local function check_number(where, name, v, min, max, whole)
  if v == nil then return end
  local rule = ("a %s%s up to %s"):format(whole and "whole number" or "number",
    min == 0 and " from 0" or "", ("%.0f"):format(max))
  if type(v) ~= "number" or not (v >= min and v <= max) then refuse(where, name, rule, v) end
  if whole and math.type(v) == "float" and v ~= math.floor(v) then refuse(where, name, rule, v) end
end

-- A negative timeout is left to the transport, which refuses it per request (engine_spec pins
-- that); what is checked here is what the transport cannot see: NaN and values past its range.
local ANY = -math.huge

function settings.check(options, where)
  if type(options) ~= "table" then return end
  check_number(where, "maxRetries", options.maxRetries, 0, settings.MAX_RETRIES, true)
  local http = options.httpOptions
  if type(http) == "table" then
    check_number(where, "httpOptions.timeout", http.timeout, ANY, settings.MAX_TIMEOUT_MS)
    check_number(where, "httpOptions.connectTimeout", http.connectTimeout, ANY, settings.MAX_TIMEOUT_MS)
    check_number(where, "httpOptions.maxQueue", http.maxQueue, 0, settings.MAX_QUEUE, true)
  end
  local delays = options.retryDelayOptions
  if type(delays) == "table" then
    check_number(where, "retryDelayOptions.base", delays.base, 0, settings.MAX_TIMEOUT_MS)
    check_number(where, "retryDelayOptions.cap", delays.cap, 0, settings.MAX_TIMEOUT_MS)
    if delays.customBackoff ~= nil and not callable(delays.customBackoff) then
      refuse(where, "retryDelayOptions.customBackoff", "a function", delays.customBackoff)
    end
  end
end

return settings
