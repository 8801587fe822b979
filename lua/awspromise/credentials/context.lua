-- What every credentials provider works with: the per-fetch context (options, environment,
-- shared files, the secrets seen so far, HTTP with a retry), ISO 8601 times, and the way a
-- configured provider fails.
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local profile = require "awspromise.profile"

local make_error = Promise.make_error
local context = {}

-- core.parse_time also reads HTTP dates and bare epoch seconds; an Expiration is only ever ISO
-- 8601, so anything that does not start as a full date and time is refused before it gets there.
local ISO_8601_DATE_TIME = "^%d%d%d%d%-%d%d%-%d%d[Tt ]%d%d:%d%d:%d%d"

-- Epoch seconds of an ISO 8601 / RFC 3339 time ("2026-01-02T03:04:05Z", fractions and offsets
-- allowed), or nil and a reason. A number is taken as epoch seconds already.
function context.parse_time(value)
  if type(value) == "number" then return value end
  if type(value) ~= "string" then return nil, "not a string" end
  if not value:find(ISO_8601_DATE_TIME) then return nil, "not an ISO 8601 time" end
  local t = core.parse_time(value)
  if not t then return nil, "bad date, time or time zone in ISO 8601 time" end
  -- Whole seconds: the refresh window is minutes wide, and integers print as they read.
  return math.floor(t)
end

-- `text` with every known secret (4 characters or more) replaced by "<redacted>".
function context.redact(text, secrets)
  text = tostring(text)
  for _, secret in ipairs(secrets) do
    if #secret >= 4 then
      local from = 1
      while true do
        local a, b = text:find(secret, from, true)
        if not a then break end
        text = text:sub(1, a - 1) .. "<redacted>" .. text:sub(b + 1)
        from = a + 10
      end
    end
  end
  return text
end

function context.message_of(err)
  if type(err) == "table" and err.message then
    if err.code and err.code ~= "CredentialsError" then return err.code .. ": " .. tostring(err.message) end
    return tostring(err.message)
  end
  return tostring(err)
end

-- A failure of a provider that was configured: ends the chain.
function context.failed(message)
  return Promise.reject(make_error("CredentialsError", message))
end

-- The same failure from inside a promise callback, which turns it into the rejection.
function context.raise(message, fields)
  error(make_error("CredentialsError", message, fields), 0)
end

function context.read_all(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, tostring(err) end
  local s = f:read("a")
  f:close()
  return s
end

local Context = {}
Context.__index = Context

-- One context per Chain:fetch(); `chain` keeps what outlives a fetch (the IMDS session token).
function context.new(chain)
  local opts = chain.opts
  return setmetatable({
    opts = opts, chain = chain, secrets = {},
    getenv = profile.getenv(opts),
    http = opts.http or core.http,
    spawn = opts.spawn or core.spawn,
  }, Context)
end

-- Remembers `value` as a secret to scrub from error messages; returns it.
function Context:secret(value)
  if type(value) == "string" and value ~= "" then self.secrets[#self.secrets + 1] = value end
  return value
end

function Context:shared()
  if not self.shared_files then self.shared_files = profile.load(self.opts) end
  return self.shared_files
end

-- The region for STS: explicit, environment, the role profile's, the selected profile's; or nil.
function Context:region(p)
  local o = self.opts
  local r = profile.region {env = o.env, region = o.region, shared = self:shared()}
  if o.region or self.getenv("AWS_REGION") or self.getenv("AWS_DEFAULT_REGION") then return r end
  if p and p.region and p.region ~= "" then return p.region end
  return r
end

-- One HTTP exchange with a retry on transport errors and 5xx (attempts in total).
function Context:request(req, attempts)
  attempts = attempts or 2
  local function try(n)
    local ok, p = pcall(self.http, req)
    if not ok then return Promise.reject(make_error("CredentialsError", context.message_of(p))) end
    return p:next(function(res)
      if res.statusCode >= 500 and n < attempts then return try(n + 1) end
      return res
    end, function(err)
      if type(err) == "table" and err.retryable and n < attempts then return try(n + 1) end
      error(err, 0)
    end)
  end
  return try(1)
end

return context
