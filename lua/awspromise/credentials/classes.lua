-- Credentials as objects, as JavaScript v2 has them (lib/credentials*): AWS.Credentials and the
-- provider classes, each with get(cb), getPromise(), refresh(cb), refreshPromise(),
-- needsRefresh(), expired and expireTime (epoch seconds), and AWS.CredentialProviderChain.
-- A provider class loads through the same providers as the chain of credentials/init.lua; the
-- ones that talk to STS, Cognito or the SSO portal live in temporary.lua, cognito.lua, sso.lua.
local Promise = require "awspromise.promise"

local make_error = Promise.make_error

local classes = {}

-- class(name, parent, init): a table callable as Name(...) and Name.new(...); init(self, ...)
-- fills a new instance.
function classes.class(name, parent, init)
  local cls = setmetatable({}, {__index = parent, __call = function(c, ...) return c.new(...) end})
  cls.__index = cls
  cls.__tostring = parent and parent.__tostring
  cls.className = name
  function cls.new(...)
    local self = setmetatable({expired = false, expireTime = nil}, cls)
    init(self, ...)
    return self
  end
  classes[name] = cls
  return cls
end

-- ---------------------------------------------------------------- AWS.Credentials

local function set_keys(self, a, b, c)
  if type(a) == "table" then a, b, c = a.accessKeyId, a.secretAccessKey, a.sessionToken end
  self.accessKeyId, self.secretAccessKey, self.sessionToken = a, b, c
end

local Credentials = classes.class("Credentials", nil, set_keys)
Credentials.expiryWindow = 15 -- seconds before expireTime when needsRefresh() says yes

-- Printing credentials (a log line, a debugger) shows no secret.
Credentials.__tostring = function(self)
  return ("AWS.%s(%s%s)"):format(self.className, tostring(self.accessKeyId),
    self.expireTime and (", expires " .. os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(self.expireTime))) or "")
end

local function now()
  return require("awspromise.util").date.getDate()
end

function Credentials:needsRefresh()
  if self.expireTime and now() + self.expiryWindow > self.expireTime then return true end
  return self.expired == true or not self.accessKeyId or not self.secretAccessKey
end

local function call_back(callback, err)
  if callback ~= nil then callback(err) end
end

-- get(callback(err)): refreshes first when needed.
function Credentials:get(callback)
  if self:needsRefresh() then return self:refresh(callback) end
  call_back(callback, nil)
end

-- refresh(callback(err)): plain credentials have nothing to load; providers have load().
-- Concurrent refreshes share one load.
function Credentials:refresh(callback)
  if not self.load then
    self.expired = false
    return call_back(callback, nil)
  end
  local waiting = self.refreshing
  if waiting then
    waiting[#waiting + 1] = callback
    return
  end
  waiting = {callback}
  self.refreshing = waiting
  local function done(err)
    self.refreshing = nil
    for _, cb in ipairs(waiting) do call_back(cb, err) end
  end
  local ok, p = pcall(self.load, self)
  if not ok then p = Promise.reject(p) end
  p:next(function(raw)
    self.accessKeyId, self.secretAccessKey, self.sessionToken = raw.accessKeyId, raw.secretAccessKey, raw.sessionToken
    self.expireTime = raw.expireTime
    self.expired = false
    done(nil)
  end, function(err)
    if type(err) ~= "table" then err = make_error("CredentialsError", tostring(err)) end
    done(err)
  end)
end

local function promised(method)
  return function(self)
    return Promise.new(function(fulfil, reject)
      method(self, function(err)
        if err ~= nil then reject(err) else fulfil(self) end
      end)
    end)
  end
end

Credentials.getPromise = promised(Credentials.get)
Credentials.refreshPromise = promised(Credentials.refresh)

function classes.is_credentials(value)
  local mt = type(value) == "table" and getmetatable(value)
  return mt and Promise.callable(value.getPromise) and Promise.callable(value.needsRefresh) or false
end

-- ---------------------------------------------------------------- providers of the chain

-- A provider class that loads through one provider function of the chain (resolve(ctx)), with
-- chain options made from the constructor's.
local function fetch(self) return self.chain:fetch() end

function classes.provider(name, resolve_of, chain_options)
  local cls = classes.class(name, Credentials, function(self, options, extra)
    self.options = options or {}
    -- a table in either argument may carry env (tests) and httpOptions
    local given = type(options) == "table" and options or (type(extra) == "table" and extra) or {}
    local opts = chain_options and chain_options(given, extra) or {}
    opts.env, opts.httpOptions = opts.env or given.env, opts.httpOptions or given.httpOptions
    opts.providers = {{name = name, resolve = resolve_of(options, extra)}}
    self.chain = require("awspromise.credentials").chain(opts)
  end)
  cls.load = fetch
  return cls
end

local function profile_options(options)
  return {profile = options.profile, credentialsFile = options.filename, configFile = options.configFile,
    tokenCodeFn = options.tokenCodeFn, processTimeout = options.processTimeout}
end

local function fixed(resolve) return function() return resolve end end

local env = require "awspromise.credentials.env"
local remote = require "awspromise.credentials.remote"

classes.provider("EnvironmentCredentials", function(prefix)
  prefix = type(prefix) == "string" and prefix or "AWS"
  return function(ctx) return env.with_prefix(prefix, ctx) end
end, function() return {} end)

classes.provider("SharedIniFileCredentials",
  fixed(require("awspromise.credentials.shared_files").resolve), profile_options)

-- ProcessCredentials: the selected profile's credential_process, and nothing else.
classes.provider("ProcessCredentials", fixed(function(ctx)
  local shared = ctx:shared()
  local p = shared:get()
  if not p or not p.credential_process or p.credential_process == "" then
    return nil, ("profile '%s' has no credential_process"):format(shared.name)
  end
  return require("awspromise.credentials.process").credentials(ctx, p.credential_process, shared.name)
end), profile_options)

classes.provider("TokenFileWebIdentityCredentials",
  fixed(require("awspromise.credentials.sts").resolve_web_identity_env))

classes.provider("EC2MetadataCredentials", fixed(remote.imds))

local function container_options(options)
  return {containerEndpoint = options.host and ("http://" .. options.host) or nil}
end
classes.provider("RemoteCredentials", fixed(remote.container), container_options)
classes.provider("ECSCredentials", fixed(remote.container), container_options)

-- ---------------------------------------------------------------- AWS.CredentialProviderChain

local Chain = classes.class("CredentialProviderChain", nil, function(self, providers)
  if providers == nil then
    providers = {}
    for i, p in ipairs(classes.CredentialProviderChain.defaultProviders) do providers[i] = p end
  end
  self.providers = providers
end)

-- JavaScript v2's order (node_loader.js).
local function made(name, ...)
  local args = table.pack(...)
  return function()
    if not classes[name] then require "awspromise.credentials.sso" end -- it registers itself here
    return classes[name](table.unpack(args, 1, args.n))
  end
end

Chain.defaultProviders = {
  made("EnvironmentCredentials", "AWS"), made("EnvironmentCredentials", "AMAZON"), made("SsoCredentials"),
  made("SharedIniFileCredentials"), made("ECSCredentials"), made("ProcessCredentials"),
  made("TokenFileWebIdentityCredentials"), made("EC2MetadataCredentials"),
}

-- resolve(callback(err, credentials)): the first provider whose get() succeeds.
function Chain:resolve(callback)
  local reasons = {}
  local i = 0
  local function try_next()
    i = i + 1
    local entry = self.providers[i]
    if entry == nil then
      return callback(make_error("CredentialsError", "Could not load credentials from any providers: "
        .. table.concat(reasons, "; ")), nil)
    end
    local ok, provider = true, entry
    if Promise.callable(entry) and not classes.is_credentials(entry) then ok, provider = pcall(entry) end
    if not ok or not classes.is_credentials(provider) then
      reasons[#reasons + 1] = ("provider %d: %s"):format(i, ok and "not a credentials object" or tostring(provider))
      return try_next()
    end
    provider:get(function(err)
      if err == nil then return callback(nil, provider) end
      reasons[#reasons + 1] = provider.className .. ": " .. tostring(type(err) == "table" and err.message or err)
      try_next()
    end)
  end
  try_next()
end

function Chain:resolvePromise()
  return Promise.new(function(fulfil, reject)
    self:resolve(function(err, creds)
      if err ~= nil then reject(err) else fulfil(creds) end
    end)
  end)
end

return classes
