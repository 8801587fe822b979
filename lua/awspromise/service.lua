-- Service clients: AWS.S3(options), AWS.Service{apiConfig = ...}. A client is its merged
-- configuration, its model (parsed once per state), and one method per operation.
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local Request = require "awspromise.request"
local s3 = require "awspromise.s3"
local settings = require "awspromise.settings"
local customizations = require "awspromise.customizations"
local config_keys = require "awspromise.config_keys"
local auth = require "awspromise.auth"

local make_error = Promise.make_error

local Service = {}
Service.__index = Service

-- Keys copied from AWS.config into each client at construction (the JavaScript SDK copies too:
-- later changes to AWS.config affect clients made later): every key of config_keys.lua.
local CONFIG_KEYS = config_keys.COPIED
-- Objects a client shares with AWS.config rather than copies.
local SHARED = {credentials = true, credentialProvider = true, logger = true, token = true}

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function merged_config(global, options)
  local config = {}
  for _, key in ipairs(CONFIG_KEYS) do
    local v = global[key]
    config[key] = type(v) == "table" and getmetatable(v) == nil and not SHARED[key] and copy(v) or v
  end
  for key, v in pairs(options) do
    if key == "httpOptions" and type(v) == "table" then
      config.httpOptions = config.httpOptions or {}
      for k, vv in pairs(v) do config.httpOptions[k] = vv end
    else
      config[key] = v
    end
  end
  config.httpOptions = config.httpOptions or {}
  return config
end

-- ---------------------------------------------------------------- models and methods

local function lower_camel(name)
  return name:sub(1, 1):lower() .. name:sub(2)
end

-- One method table per loaded model: method name -> function(client, params, callback).
local method_tables = setmetatable({}, {__mode = "k"})

local function methods_for(model)
  local methods = method_tables[model]
  if methods then return methods end
  methods = setmetatable({}, {__index = Service})
  for op in pairs(model:operations()) do
    local fn = function(self, params, callback) return self:makeRequest(op, params, callback) end
    methods[lower_camel(op)] = fn
  end
  method_tables[model] = methods
  return methods
end

-- One table per loaded model: operation name -> {name =, handle =, authtype =, eventStream =},
-- filled on first use. The handle (core.operation) is what validate, build_request and
-- parse_response take, so the name is looked up once per model, not three times per request;
-- eventStream (the output's event-stream member, or false) tells once per operation whether
-- its replies need eventstream.prepare.
local operation_tables = setmetatable({}, {__mode = "k"})

local function operations_for(model)
  local ops = operation_tables[model]
  if ops then return ops end
  ops = setmetatable({}, {__index = function(ops_, name)
    local handle = type(name) == "string" and core.operation(model, name)
    if not handle then return nil end
    local info = model:operation(name)
    local entry = {name = name, handle = handle, authtype = info.authtype, endpointDiscovery = info.endpointDiscovery,
      eventStream = core.eventstream_member(handle) or false}
    rawset(ops_, name, entry)
    return entry
  end})
  operation_tables[model] = ops
  return ops
end

local loaded_models = {} -- "id@version" or model text -> model userdata, once per state

local function load_model_text(text, key)
  local model = loaded_models[key]
  if not model then
    model = core.model_load(text)
    loaded_models[key] = model
  end
  return model
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then
    error(make_error("ConfigError", "apiConfig: cannot read the model file: " .. tostring(err)), 0)
  end
  local text = f:read("a")
  f:close()
  return text
end

-- apiConfig: a model table, a JSON string, or the path of a JSON model file.
local function model_from_api_config(api)
  if type(api) == "table" then
    if type(api.metadata) ~= "table" or type(api.operations) ~= "table" then
      error(make_error("ConfigError", "apiConfig: a model table needs metadata and operations"), 0)
    end
    return core.model_load(core.json_encode(api))
  elseif type(api) == "string" then
    if api:match("^%s*{") then return load_model_text(api, api) end
    return load_model_text(read_file(api), "file:" .. api)
  end
  error(make_error("ConfigError", "apiConfig must be a model table, a JSON string or a file path; got " .. type(api)), 0)
end

-- ---------------------------------------------------------------- construction

local metas = setmetatable({}, {__mode = "k"})

local function attach(self, model)
  self.model = model
  self.opCache = operations_for(model)
  self.api = model:metadata()
  local meta = metas[model]
  if not meta then
    meta = {__index = methods_for(model), __tostring = Service.__tostring}
    metas[model] = meta
  end
  return setmetatable(self, meta)
end

-- Service.new(globalConfig, options, class): class = {id =, name =} for the shipped models.
function Service.new(global, options, class)
  if options ~= nil and type(options) ~= "table" then
    error(make_error("ConfigError", "service options must be a table, got " .. type(options)), 3)
  end
  options = config_keys.service_options(global, options or {}, class)
  local self = {globalConfig = global, config = merged_config(global, options)}
  settings.check(self.config, "service options")
  local model
  if class then
    local models = require "awspromise.models"
    local asked = options.apiVersion or (global.apiVersions or {})[class.id] or (global.apiVersions or {})[class.name]
    local version = models.pick(class.id, asked)
    model = load_model_text(models.read(class.id, version), class.id .. "@" .. version)
    self.serviceIdentifier = class.id
    self.modelVersion = version
  else
    if options.apiConfig == nil then
      error(make_error("ConfigError", "AWS.Service needs options.apiConfig (a model table, JSON text or a file path)"), 3)
    end
    model = model_from_api_config(options.apiConfig)
  end
  attach(self, model)
  self.serviceIdentifier = self.serviceIdentifier or self.api.endpointPrefix
  customizations.setup(self) -- customization hook: per-service checks and defaults
  local http = self.config.httpOptions
  if http.maxSockets or http.maxQueue then core.http_configure{maxSockets = http.maxSockets, maxQueue = http.maxQueue} end
  return self
end

function Service:__tostring()
  return "AWS." .. tostring(self.serviceIdentifier) .. " client"
end

-- ---------------------------------------------------------------- requests

function Service:makeRequest(operation, params, callback)
  local op = self.opCache[operation]
  if not op then
    error(make_error("InvalidParameter", "makeRequest: " .. tostring(self.serviceIdentifier) ..
      " has no operation named '" .. tostring(operation) .. "'"), 2)
  end
  if params ~= nil and type(params) ~= "table" then
    if callback == nil and Promise.callable(params) then
      params, callback = nil, params
    else
      error(make_error("InvalidParameterType", "Expected params to be a table, got " .. type(params)), 2)
    end
  end
  if self.config.params then params = config_keys.bind_params(self, operation, params) end
  local request = Request.new(self, operation, params, op)
  customizations.request(self, request) -- customization hook: per-request listeners
  config_keys.request(self, request) -- configuration keys that act on replies
  if callback ~= nil then request:send(callback) end
  return request
end

function Service:maxRetries()
  local n = self.config.maxRetries
  if n ~= nil then return n end
  return self.serviceIdentifier == "dynamodb" and 10 or 3
end

function Service:retryDelayOptions()
  local options = self.config.retryDelayOptions
  if options then return options end
  return {base = self.serviceIdentifier == "dynamodb" and 50 or 100}
end

function Service:region()
  local region = self.config.region
  if region then return region end
  local profile = require "awspromise.profile"
  local resolved, err = profile.region(self.config)
  if not resolved then error(err, 0) end
  self.config.region = resolved
  return resolved
end

function Service:resolvedEndpoint()
  local ep = self.endpointCache
  if ep then return ep end
  local endpoints = require "awspromise.endpoints"
  local api = self.api
  ep = endpoints.resolve {
    serviceId = self.serviceIdentifier,
    sdkServiceId = api.serviceId,
    endpointPrefix = api.endpointPrefix,
    signingName = api.signingName,
    globalEndpoint = api.globalEndpoint,
    region = self:region(),
    endpoint = self.config.endpoint,
    useFipsEndpoint = self.config.useFipsEndpoint,
    useDualstackEndpoint = self.config.useDualstackEndpoint,
    sslEnabled = self.config.sslEnabled,
    stsRegionalEndpoints = self.config.stsRegionalEndpoints,
    s3UsEast1RegionalEndpoint = self.config.s3UsEast1RegionalEndpoint,
  }
  self.endpointCache = ep
  return ep
end

-- The operation entry for a name (or the entry itself); raises for an unknown operation.
-- (A name indexes the string library: its .handle is nil.)
local function operation_entry(self, operation)
  if operation.handle then return operation end
  local op = self.opCache[operation]
  if op then return op end
  error(make_error("InvalidParameter", tostring(self.serviceIdentifier) ..
    " has no operation named '" .. tostring(operation) .. "'"), 0)
end

-- Raises the validation error of params (unless config.paramValidation is false).
function Service:validateParams(operation, params)
  if self.config.paramValidation == false then return end
  local err = core.validate(operation_entry(self, operation).handle, params)
  if err then error(err, 0) end
end

-- The options of build_request: the same table while config.idempotencyToken stays the same.
local function build_options(self)
  local token = self.config.idempotencyToken
  if not token then return nil end
  local cached = self.buildOptions
  if cached and cached.idempotencyToken == token then return cached end
  cached = {idempotencyToken = token}
  self.buildOptions = cached
  return cached
end

-- Validates, serializes and addresses one call: the options of core.http, without `sign`.
function Service:buildHttpRequest(operation, params)
  local op = operation_entry(self, operation)
  self:validateParams(op, params)
  return self:buildHttp(op, params)
end

-- Serializes and addresses one call whose params are valid (buildHttpRequest without validation).
function Service:buildHttp(operation, params)
  local config = self.config
  local op = operation_entry(self, operation)
  local req = core.build_request(op.handle, params, build_options(self))
  local ep = self.endpointCache or self:resolvedEndpoint()
  local scheme, host, base_path = ep.scheme, ep.host, ep.basePath
  if not scheme then
    scheme, host, base_path = ep.url:match("^(%a[%w+.-]*://)([^/]*)(.*)$")
    base_path = base_path:gsub("/$", "")
    ep.scheme, ep.host, ep.basePath = scheme, host, base_path
    ep.hostnames = {}
  end
  local path = req.path
  local bucket = self.serviceIdentifier == "s3" and type(params) == "table" and params.Bucket
  if type(bucket) == "string" then
    s3.check_key(params.Key)
    local address
    address, path = s3.address(ep, bucket, path, config)
    host = address.host
  end
  if req.hostPrefix and config.hostPrefixEnabled ~= false then host = req.hostPrefix .. host end
  local url = scheme .. host .. base_path .. path
  if req.query ~= "" then url = url .. "?" .. req.query end
  local hostnames = ep.hostnames
  local hostname = hostnames[host]
  if not hostname then
    hostname = host:gsub(":%d+$", "")
    hostnames[host] = hostname
  end
  local http_request = {
    method = req.method,
    url = url,
    headers = req.headers,
    body = req.body,
    hostname = hostname,
    httpOptions = config.httpOptions,
    authtype = op.authtype,
    sign = false, -- the attempt sets it (a slot now: no table growth per request)
  }
  config_keys.finish_http(self, op.name, params, http_request) -- customUserAgent, computeChecksums, ...
  return http_request
end

-- ---------------------------------------------------------------- credentials and signing

function Service:credentialsProvider()
  if not self.provider then
    self.provider = require("awspromise.credentials").for_config(self.config)
  end
  return self.provider
end

-- Credentials ready now (nil and a promise when they must be fetched first). For a request
-- whose operation signs with a bearer token, the token ({token =}) instead.
function Service:cachedCredentials(request)
  if request and auth.scheme(self, request.op) == "bearer" then
    return require("awspromise.credentials.token").cached(self.config)
  end
  local provider = self:credentialsProvider()
  local ready = provider:peek()
  if ready then return ready end
  return nil, provider:get()
end

function Service:invalidateCredentials()
  local provider = self:credentialsProvider()
  if provider.invalidate then provider:invalidate() end
end

-- The `sign` option of core.http for these credentials: core.http_signing's userdata, read
-- once and reused while the credentials and the clock offset stay the same.
function Service:signingOptions(creds, region)
  if creds.token and not creds.accessKeyId then return auth.bearer(self, creds) end
  local cached = self.signCache
  local offset = self.config.systemClockOffset -- milliseconds, as in JavaScript
  local ep = self:resolvedEndpoint()
  local other_region = region ~= nil and region ~= ep.signingRegion
  if cached and not other_region and cached.creds == creds and cached.timeOffset == offset then
    return cached.options
  end
  local options = core.http_signing {
    version = auth.scheme(self) == "v2" and "v2" or nil,
    accessKeyId = creds.accessKeyId,
    secretAccessKey = creds.secretAccessKey,
    sessionToken = creds.sessionToken,
    region = other_region and region or ep.signingRegion,
    service = ep.signingName,
    timeOffset = offset and offset / 1000,
    -- s3DisableBodySigning (JavaScript's default true): S3 over https sends UNSIGNED-PAYLOAD
    unsignedPayload = ep.signingName == "s3" and self.config.s3DisableBodySigning ~= false
      and ep.url:sub(1, 8) == "https://" or nil,
  }
  -- another region's signing (an SQS queue URL elsewhere) is rare: not cached
  if not other_region then self.signCache = {creds = creds, timeOffset = offset, options = options} end
  return options
end

-- Paging and waiters live in their own files and add their methods here and to AWS.Request.
require("awspromise.paginator").install(Service, Request)
require("awspromise.waiter").install(Service, Request)
require("awspromise.s3_presign").install(Service)

return Service
