-- Credentials: the provider chain every AWS SDK uses, resolved asynchronously.
--
--   local credentials = require "awspromise.credentials"
--   local chain = credentials.chain(opts)      -- opts below; all optional
--   chain:get()        -> promise of {accessKeyId, secretAccessKey, sessionToken, expireTime, source}
--   chain:invalidate() -- the next get() fetches anew (the engine calls it on ExpiredToken)
--   chain:peek()       -> the cached credentials when still fresh, else nil (no fetch)
--   credentials.default()        -- the process-wide chain for clients without explicit credentials
--   credentials.for_config(cfg)  -- cfg.credentials' chain (one per value), else default()
--   credentials.parse_time(iso8601) -> epoch seconds | nil, reason
-- The credentials are a table whose tostring shows no secret.
--
-- Order: explicit (opts.credentials) > environment > shared files (static keys, role_arn with
-- source_profile or credential_source, web_identity_token_file, credential_process) > web
-- identity (AWS_WEB_IDENTITY_TOKEN_FILE) > container (ECS/EKS) > EC2 instance metadata (IMDSv2).
-- A provider that is not configured is skipped; one that is configured but fails ends the chain
-- (falling through to another identity would be a surprise). Either way the CredentialsError
-- names every provider and why it was skipped or failed. Known secrets are scrubbed from it.
--
-- Temporary credentials are reused until 5 minutes before they expire; get() calls made during a
-- fetch share it; a failed fetch is not remembered.
--
-- opts: credentials  {accessKeyId=, secretAccessKey=, sessionToken=} | provider with :get() or
--                    :getPromise() | function() returning creds or a promise of them
--       env, profile, region, configFile, credentialsFile   as in awspromise.profile
--       now          clock in epoch seconds (default os.time)
--       httpOptions  {timeout, connectTimeout} for STS (ms)
--       http, spawn  replacements for core.http / core.spawn
--       containerEndpoint  base URL for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
--                          (default http://169.254.170.2)
--       providers    a list replacing credentials.providers ({name=, resolve=function(ctx)}:
--                    resolve returns nil and why it is skipped, or a promise of credentials)
--       processTimeout     ms allowed to credential_process (default 60000)
--
-- The providers live beside this file, each requiring only what is below it:
--   context.lua       the per-fetch context, ISO 8601 times, redaction, failures
--   env.lua           environment variables
--   process.lua       credential_process
--   remote.lua        the container endpoint and EC2 instance metadata
--   sts.lua           AssumeRole, AssumeRoleWithWebIdentity, the web identity provider
--   shared_files.lua  the selected profile (uses env, process, remote, sts)
local Promise = require "awspromise.promise"
local profile = require "awspromise.profile"
local context = require "awspromise.credentials.context"
local remote = require "awspromise.credentials.remote"

local make_error = Promise.make_error
local redact, message_of = context.redact, context.message_of

local credentials = {REFRESH_WINDOW = 300}
credentials.parse_time = context.parse_time
credentials.redact = redact

---------------------------------------------------------------- credentials values

local Credentials = {}
Credentials.__index = Credentials
-- Printing credentials (a log line, a debugger) shows no secret.
Credentials.__tostring = function(c)
  return ("Credentials(%s, source=%s%s)"):format(c.accessKeyId, tostring(c.source),
    c.expireTime and (", expires=" .. os.date("!%Y-%m-%dT%H:%M:%SZ", c.expireTime)) or "")
end

-- Checks and copies a provider's answer; nil and a reason when it is unusable.
local function normalize(raw, source)
  if type(raw) ~= "table" then return nil, "the provider returned a " .. type(raw) .. ", not credentials" end
  local id, secret, token = raw.accessKeyId, raw.secretAccessKey, raw.sessionToken
  if type(id) ~= "string" or id == "" then return nil, "accessKeyId is missing" end
  if type(secret) ~= "string" or secret == "" then return nil, "secretAccessKey is missing" end
  if token ~= nil and type(token) ~= "string" then return nil, "sessionToken must be a string" end
  if token == "" then token = nil end
  -- A CR or LF would go out as a header line of its own, a NUL would cut the value short.
  for name, value in pairs {accessKeyId = id, secretAccessKey = secret, sessionToken = token} do
    if value:find("[\r\n%z]") then return nil, name .. " contains a CR, LF or NUL character" end
  end
  local expire = raw.expireTime
  if expire ~= nil then
    local t = context.parse_time(expire)
    if not t then return nil, "expireTime is not a time" end
    expire = t
  end
  return setmetatable({accessKeyId = id, secretAccessKey = secret, sessionToken = token,
    expireTime = expire, source = raw.source or source}, Credentials)
end

---------------------------------------------------------------- explicit credentials

local function is_object(value)
  return require("awspromise.credentials.classes").is_credentials(value)
end

local function explicit_provider(value)
  if is_object(value) then -- AWS.Credentials and its provider classes: refreshed by get()
    return function() return value:getPromise() end
  end
  if type(value) == "table" and value.accessKeyId ~= nil then
    return function() return Promise.resolve(value) end
  end
  local call
  if type(value) == "table" and Promise.callable(value.get) then
    call = function() return value:get() end
  elseif type(value) == "table" and Promise.callable(value.getPromise) then
    call = function() return value:getPromise() end
  elseif Promise.callable(value) then
    call = function() return value() end
  else
    error(make_error("ConfigError", "credentials must be {accessKeyId=, secretAccessKey=[, sessionToken=]}, " ..
      "an object with get() or a function; got " .. type(value)), 3)
  end
  return function() return Promise.resolve(nil):next(call) end
end

---------------------------------------------------------------- the chain

credentials.providers = {
  {name = "environment", resolve = require("awspromise.credentials.env").resolve},
  {name = "shared files", resolve = require("awspromise.credentials.shared_files").resolve},
  {name = "web identity", resolve = require("awspromise.credentials.sts").resolve_web_identity_env},
  {name = "container", resolve = remote.container},
  {name = "EC2 instance metadata", resolve = remote.imds},
}

local Chain = {}
Chain.__index = Chain
credentials.Chain = Chain

function credentials.chain(opts)
  opts = opts or {}
  if getmetatable(opts.credentials) == Chain then return opts.credentials end
  local self = setmetatable({opts = opts, imds = {}}, Chain)
  if opts.credentials ~= nil then
    self.providers = {{name = "explicit credentials", resolve = explicit_provider(opts.credentials)}}
    if is_object(opts.credentials) then
      self.object = opts.credentials
    elseif type(opts.credentials) == "table" and opts.credentials.accessKeyId ~= nil then
      self.static = opts.credentials -- a table the user may still edit: watched by fresh()
    end
  else
    self.providers = opts.providers or credentials.providers
  end
  profile.getenv(opts) -- a bad opts.env fails here rather than in the first get()
  return self
end

function Chain:now()
  return (self.opts.now or os.time)()
end

local function fresh(self, c)
  if not c then return false end
  local object = self.object
  if object and (object:needsRefresh() or object.accessKeyId ~= c.accessKeyId
    or object.secretAccessKey ~= c.secretAccessKey or object.sessionToken ~= c.sessionToken) then
    return false
  end
  local s = self.static
  if s then
    local token = s.sessionToken
    if token == "" then token = nil end
    if s.accessKeyId ~= c.accessKeyId or s.secretAccessKey ~= c.secretAccessKey or token ~= c.sessionToken then
      return false
    end
  end
  return c.expireTime == nil or self:now() < c.expireTime - credentials.REFRESH_WINDOW
end

function Chain:get()
  if fresh(self, self.cached) then return Promise.resolve(self.cached) end
  if self.inflight then return self.inflight end
  local p = self:fetch()
  self.inflight = p
  p:next(function(c)
    if self.inflight == p then self.inflight = nil end
    self.cached = c
  end, function()
    if self.inflight == p then self.inflight = nil end
  end)
  return p
end

function Chain:invalidate()
  self.cached = nil
  if self.object then self.object.expired = true end
end

-- The cached credentials without any fetch (nil when none or when they need a refresh).
function Chain:peek()
  if fresh(self, self.cached) then return self.cached end
  return nil
end

-- Runs the providers in order; always returns a new promise. Use get() to benefit from caching.
function Chain:fetch()
  local ctx = context.new(self)
  local report = {}
  local function summary(lead)
    local parts = {}
    for _, r in ipairs(report) do parts[#parts + 1] = r.name .. ": " .. r.reason end
    return redact(lead .. table.concat(parts, "; "), ctx.secrets)
  end
  local function give_up(lead)
    for _, r in ipairs(report) do r.reason = redact(r.reason, ctx.secrets) end
    return make_error("CredentialsError", summary(lead), {providers = report})
  end
  return Promise.new(function(fulfil, reject)
    local i = 0
    local function step()
      i = i + 1
      local prov = self.providers[i]
      if not prov then return reject(give_up("Could not load credentials from any provider: ")) end
      local ok, p, reason = pcall(prov.resolve, ctx)
      if ok and p == nil then
        report[#report + 1] = {name = prov.name, status = "skipped", reason = tostring(reason or "not configured")}
        return step()
      end
      if not ok then p = Promise.reject(p) end
      -- After a failure of the last provider, every provider was tried.
      local lead = i == #self.providers and "Could not load credentials from any provider: "
        or "Could not load credentials: "
      p:next(function(raw)
        local creds, err = normalize(raw, prov.name)
        if not creds then
          report[#report + 1] = {name = prov.name, status = "failed", reason = err}
          return reject(give_up(lead))
        end
        fulfil(creds)
      end, function(err)
        report[#report + 1] = {name = prov.name, status = "failed", reason = message_of(err)}
        reject(give_up(lead))
      end)
    end
    step()
  end)
end

local default_chain

-- The process-wide chain (real environment and files), created on first use.
function credentials.default()
  if not default_chain then default_chain = credentials.chain() end
  return default_chain
end

-- Forgets the process-wide chain (tests; after changing files on disk).
function credentials.reset_default()
  default_chain = nil
end

-- The chain for a service configuration: its explicit credentials (one chain per value, so that
-- clients sharing the value share the cache), else the process-wide chain.
local per_value = setmetatable({}, {__mode = "k"})
function credentials.for_config(cfg)
  local value = cfg and cfg.credentials
  if value == nil and cfg and cfg.credentialProvider ~= nil then -- an AWS.CredentialProviderChain
    local provider = cfg.credentialProvider
    local chain = per_value[provider]
    if not chain then
      chain = credentials.chain {credentials = function()
        return provider:resolvePromise():next(function(found) return found:getPromise() end)
      end}
      per_value[provider] = chain
    end
    return chain
  end
  if value == nil then return credentials.default() end
  if getmetatable(value) == Chain then return value end
  if type(value) ~= "table" and type(value) ~= "function" and type(value) ~= "userdata" then
    error(make_error("ConfigError", "credentials must be a table, an object with get() or a function; got "
      .. type(value)), 2)
  end
  local chain = per_value[value]
  if not chain then
    chain = credentials.chain {credentials = value}
    per_value[value] = chain
  end
  return chain
end

credentials.normalize = normalize

return credentials
