-- AWS.util: the helpers of JavaScript v2's AWS.util that ported code reaches for, as a documented
-- subset (README, "Porting from JS v2"). Bytes are Lua strings throughout; a "Date" is epoch
-- seconds (a number, fractions allowed).
local core = require "awspromise.core"
local Promise = require "awspromise.promise"

local crypto = core.crypto
local make_error = Promise.make_error

local util = {delay = core.delay}

local function check_string(value, what)
  if type(value) == "number" then return tostring(value) end
  if type(value) ~= "string" then
    error(make_error("InvalidParameterType", ("AWS.util.%s expects a string, got %s"):format(what, type(value))), 3)
  end
  return value
end

-- digest: nil (raw bytes), "hex" or "base64", as JavaScript's Buffer digests.
local function encoded(bytes, digest, what)
  if digest == nil or digest == "buffer" or digest == "binary" then return bytes end
  if digest == "hex" then return (bytes:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
  if digest == "base64" then return crypto.base64_encode(bytes) end
  error(make_error("InvalidParameter", ("AWS.util.crypto.%s: digest must be 'hex', 'base64' or nil, got %s")
    :format(what, tostring(digest))), 3)
end

util.base64 = {
  encode = function(s) return crypto.base64_encode(check_string(s, "base64.encode")) end,
  decode = function(s)
    local bytes, err = crypto.base64_decode(check_string(s, "base64.decode"))
    if not bytes then error(make_error("InvalidParameter", "AWS.util.base64.decode: " .. err), 2) end
    return bytes
  end,
}

util.uuid = {v4 = crypto.uuid4}

local HMAC_ALGORITHMS = {sha256 = true, sha1 = true, md5 = true}

util.crypto = {
  -- hmac(key, data[, digest[, algorithm = "sha256"]]): JavaScript's argument order.
  hmac = function(key, data, digest, algorithm)
    algorithm = algorithm or "sha256"
    if not HMAC_ALGORITHMS[algorithm] then
      error(make_error("InvalidParameter", "AWS.util.crypto.hmac: algorithm must be sha256, sha1 or md5, got "
        .. tostring(algorithm)), 2)
    end
    local mac = crypto.hmac(algorithm, check_string(key, "crypto.hmac"), check_string(data, "crypto.hmac"))
    return encoded(mac, digest, "hmac")
  end,
  md5 = function(data, digest) return encoded(crypto.md5(check_string(data, "crypto.md5")), digest, "md5") end,
  sha1 = function(data, digest) return encoded(crypto.sha1(check_string(data, "crypto.sha1")), digest, "sha1") end,
  sha256 = function(data, digest)
    return encoded(crypto.sha256(check_string(data, "crypto.sha256")), digest, "sha256")
  end,
  crc32 = function(data) return crypto.crc32(check_string(data, "crypto.crc32")) end,
  toHex = function(bytes) return encoded(check_string(bytes, "crypto.toHex"), "hex", "toHex") end,
}

-- The clock the signer uses: now, moved by AWS.config.systemClockOffset (milliseconds).
util.config = nil -- set by awspromise (init.lua) to AWS.config

local function as_time(date)
  if date == nil then return util.date.getDate() end
  if type(date) ~= "number" then
    error(make_error("InvalidParameterType", "AWS.util.date: a date is epoch seconds, got " .. type(date)), 3)
  end
  return date
end

util.date = {
  getDate = function()
    local offset = util.config and tonumber(util.config.systemClockOffset) or 0
    return os.time() + offset / 1000
  end,
  iso8601 = function(date)
    local t = as_time(date)
    return os.date("!%Y-%m-%dT%H:%M:%S", math.floor(t)) .. (".%03dZ"):format(math.floor((t % 1) * 1000))
  end,
  rfc822 = function(date) return os.date("!%a, %d %b %Y %H:%M:%S GMT", math.floor(as_time(date))) end,
  unixTimestamp = function(date) return as_time(date) end,
}

util.string = {
  byteLength = function(s)
    if s == nil then return 0 end
    return #check_string(s, "string.byteLength")
  end,
  upperFirst = function(s) return (s:gsub("^%l", string.upper)) end,
  lowerFirst = function(s) return (s:gsub("^%u", string.lower)) end,
}

-- RFC 3986: everything but A-Z a-z 0-9 - _ . ~ is %XX (and '/' too, but in uriEscapePath).
function util.uriEscape(s)
  return (check_string(s, "uriEscape"):gsub("[^%w%-_%.~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

function util.uriEscapePath(s)
  return (check_string(s, "uriEscapePath"):gsub("[^%w%-_%.~/]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- name=value pairs sorted by name; a list repeats its name with sorted values; a false value
-- leaves "name=" alone, as JavaScript's null does.
function util.queryParamsToString(params)
  local names = {}
  for name in pairs(params) do names[#names + 1] = name end
  table.sort(names)
  local items = {}
  for _, name in ipairs(names) do
    local value, key = params[name], util.uriEscape(name)
    if type(value) == "table" then
      local escaped = {}
      for i, item in ipairs(value) do escaped[i] = util.uriEscape(item) end
      table.sort(escaped)
      items[#items + 1] = key .. "=" .. table.concat(escaped, "&" .. key .. "=")
    elseif value == false then
      items[#items + 1] = key .. "="
    else
      items[#items + 1] = key .. "=" .. util.uriEscape(value)
    end
  end
  return table.concat(items, "&")
end

-- A shallow copy; merge(a, b) is a copy of a with b's keys over it; update(a, b) writes b into a.
function util.copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

function util.update(a, b)
  for k, v in pairs(b or {}) do a[k] = v end
  return a
end

function util.merge(a, b)
  return util.update(util.copy(a or {}), b)
end

-- each(t, fn): fn(key, value) for every pair; returning util.abort stops the walk.
util.abort = setmetatable({}, {__tostring = function() return "AWS.util.abort" end})

function util.each(t, fn)
  for k, v in pairs(t) do
    if fn(k, v) == util.abort then break end
  end
end

function util.arrayEach(t, fn)
  for i, v in ipairs(t) do
    if fn(v, i) == util.abort then break end
  end
end

return util
