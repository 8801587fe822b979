-- Every key of JavaScript v2's AWS.Config (and the service-only keys), each honoured, honoured
-- differently or refused with a ConfigError: none is silently ignored. The README's table
-- "Porting from JS v2: configuration" is this file in prose.
--
--   config_keys.KEYS               name -> {status = "honoured" | "differently" | "refused", check =}
--   config_keys.check(options, where[, allowUnknown])   raises ConfigError for a refused value
--   config_keys.extract_credentials(options)   the accessKeyId/secretAccessKey shorthand
--   config_keys.bind_params(config, params)    `params` bound in the client's configuration
--   config_keys.finish_http(service, op, params, http_request)  what the keys change in a request
--   config_keys.request(service, request)      what the keys change in the handling of a request
--                                              (its replies; endpoint discovery's addressing)
local Promise = require "awspromise.promise"

local make_error = Promise.make_error

local config_keys = {}

local function fail(message, level)
  error(make_error("ConfigError", message), level or 4)
end

local function boolean_check(name)
  return function(v)
    if type(v) ~= "boolean" then return name .. " must be true or false, got " .. type(v) end
  end
end

local function one_of(name, allowed)
  return function(v)
    for _, a in ipairs(allowed) do if v == a then return nil end end
    return ("%s must be one of %s; got %s"):format(name, table.concat(allowed, ", "), tostring(v))
  end
end

-- A value the port cannot honour: refused with the reason, so that nothing changes unnoticed.
local function refuse_unless(ok_values, name, reason)
  return function(v)
    for _, a in ipairs(ok_values) do if v == a then return nil end end
    return ("%s = %s is not supported: %s"):format(name, tostring(v), reason)
  end
end

local function logger_check(v)
  if v == nil or v == false or Promise.callable(v) then return nil end
  if type(v) == "table" or type(v) == "userdata" then
    local ok, has = pcall(function() return Promise.callable(v.write) or Promise.callable(v.log) end)
    if ok and has then return nil end
  end
  return "logger must be a function or an object with write or log (io.stdout will do), got " .. type(v)
end

local function number_check(name)
  return function(v)
    if type(v) ~= "number" or v ~= v or v < 0 then return name .. " must be a number of at least 0" end
  end
end

local function signature_check(v)
  if v == "v4" or v == "v2" or v == "bearer" then return nil end
  return ("signatureVersion = %s is not supported: awspromise signs with 'v4', 'v2' (SimpleDB) or " ..
    "'bearer' (a token); S3's legacy 's3' and 'v3' signers are gone from AWS"):format(tostring(v))
end

local function token_check(v)
  return require("awspromise.credentials.token").check(v)
end

local h, d, r = "honoured", "differently", "refused"
-- JavaScript v2's AWS.Config keys (lib/config.js), then the keys only a service constructor takes.
config_keys.KEYS = {
  credentials = {status = h}, credentialProvider = {status = h}, region = {status = h},
  logger = {status = h, check = logger_check}, apiVersions = {status = h}, apiVersion = {status = h},
  endpoint = {status = h}, httpOptions = {status = h}, maxRetries = {status = h},
  maxRedirects = {status = d, check = number_check("maxRedirects")},
  paramValidation = {status = d}, sslEnabled = {status = h}, s3ForcePathStyle = {status = h},
  s3BucketEndpoint = {status = h}, s3DisableBodySigning = {status = h, check = boolean_check("s3DisableBodySigning")},
  s3UsEast1RegionalEndpoint = {status = h, check = one_of("s3UsEast1RegionalEndpoint", {"legacy", "regional"})},
  s3UseArnRegion = {status = r, check = refuse_unless({false}, "s3UseArnRegion",
    "access point and Outposts ARNs are not accepted as Bucket")},
  computeChecksums = {status = h, check = boolean_check("computeChecksums")},
  convertResponseTypes = {status = r, check = refuse_unless({true}, "convertResponseTypes",
    "replies are always parsed by their model into Lua types")},
  correctClockSkew = {status = h}, customUserAgent = {status = h},
  dynamoDbCrc32 = {status = h, check = boolean_check("dynamoDbCrc32")},
  systemClockOffset = {status = h, check = function(v)
    if type(v) ~= "number" then return "systemClockOffset is milliseconds (a number), got " .. type(v) end
  end},
  signatureVersion = {status = h, check = signature_check},
  signatureCache = {status = d, check = boolean_check("signatureCache")},
  retryDelayOptions = {status = h}, useAccelerateEndpoint = {status = h, check = boolean_check("useAccelerateEndpoint")},
  clientSideMonitoring = {status = r, check = refuse_unless({false}, "clientSideMonitoring",
    "awspromise publishes no client-side monitoring events")},
  endpointDiscoveryEnabled = {status = d, check = boolean_check("endpointDiscoveryEnabled")},
  endpointCacheSize = {status = h, check = number_check("endpointCacheSize")},
  hostPrefixEnabled = {status = h}, stsRegionalEndpoints = {status = h,
    check = one_of("stsRegionalEndpoints", {"legacy", "regional"})},
  useFipsEndpoint = {status = h}, useDualstackEndpoint = {status = h},
  token = {status = h, check = token_check},
  -- service constructors only
  params = {status = h, check = function(v)
    if type(v) ~= "table" then return "params (bound parameters) must be a table, got " .. type(v) end
  end},
  apiConfig = {status = h}, accessKeyId = {status = h}, secretAccessKey = {status = h}, sessionToken = {status = h},
  -- awspromise's own
  idempotencyToken = {status = h},
}

-- The keys copied from AWS.config into each client at construction.
config_keys.COPIED = {}
for name in pairs(config_keys.KEYS) do
  if name ~= "apiConfig" and name ~= "apiVersion" and name ~= "params" then
    config_keys.COPIED[#config_keys.COPIED + 1] = name
  end
end
table.sort(config_keys.COPIED)

-- Raises a ConfigError for a refused or malformed value. `where` names the caller in the message;
-- with allowUnknown false an unknown key is an error too (JavaScript drops it without a word).
function config_keys.check(options, where, allowUnknown, is_service_name)
  for name, value in pairs(options) do
    local key = config_keys.KEYS[name]
    if key and key.check and value ~= nil then
      local problem = key.check(value)
      if problem then fail(where .. ": " .. problem) end
    elseif not key and not allowUnknown and not (is_service_name and is_service_name(name)) then
      fail(("%s: unknown configuration key '%s' (pass true as the second argument of update to set it anyway)")
        :format(where, tostring(name)))
    end
  end
end

-- {accessKeyId =, secretAccessKey =[, sessionToken =]} among the options become their credentials,
-- as JavaScript's extractCredentials does.
function config_keys.extract_credentials(options)
  if options.accessKeyId == nil and options.secretAccessKey == nil then return options end
  if not (options.accessKeyId and options.secretAccessKey) then
    fail("accessKeyId and secretAccessKey go together: one of them is missing", 4)
  end
  local copy = {}
  for k, v in pairs(options) do copy[k] = v end
  copy.credentials = require("awspromise.credentials.classes").Credentials(options.accessKeyId,
    options.secretAccessKey, options.sessionToken)
  copy.accessKeyId, copy.secretAccessKey, copy.sessionToken = nil, nil, nil
  return copy
end

local function is_service_name(name)
  local ok, models = pcall(require, "awspromise.models")
  return ok and type(name) == "string" and models.services()[name] ~= nil
end

-- The options of AWS.config:update checked, with the credentials shorthand turned into credentials.
function config_keys.prepare(options, where, allow_unknown)
  options = config_keys.extract_credentials(options)
  config_keys.check(options, where, allow_unknown, is_service_name)
  return options
end

-- A service constructor's options: AWS.config[serviceId] (JavaScript's per-service
-- configuration, e.g. AWS.config.update({s3 = {params = {Bucket = "b"}}})) under the given ones.
function config_keys.service_options(global, options, class)
  local per_service = class and rawget(global, class.id)
  if type(per_service) == "table" then
    local merged = {}
    for k, v in pairs(per_service) do merged[k] = v end
    for k, v in pairs(options) do merged[k] = v end
    options = merged
  end
  options = config_keys.extract_credentials(options)
  config_keys.check(options, "service options", true)
  return options
end

-- What AWS.config gains besides update: getCredentials and loadFromPath (dot or colon calls).
function config_keys.install(cfg)
  local function args(a, ...)
    if a == cfg then return ... end
    return a, ...
  end

  -- getCredentials(callback(err, credentials)). With a credentialProvider, the credentials it
  -- found become AWS.config.credentials, as in JavaScript.
  function cfg.getCredentials(...)
    local callback = args(...)
    if cfg.credentials == nil and cfg.credentialProvider ~= nil then
      return cfg.credentialProvider:resolve(function(err, object)
        if object then cfg.credentials = object end
        callback(err, object)
      end)
    end
    local ok, chain = pcall(require("awspromise.credentials").for_config, cfg)
    if not ok then return callback(chain, nil) end
    chain:get():next(function(found) callback(nil, cfg.credentials or found) end,
      function(err) callback(err, nil) end)
  end

  -- loadFromPath(path): the JSON file's keys replace the whole configuration.
  function cfg.loadFromPath(...)
    local path = args(...)
    local f, err = io.open(path, "rb")
    if not f then fail("loadFromPath: cannot read " .. tostring(path) .. ": " .. tostring(err), 3) end
    local text = f:read("a")
    f:close()
    local options, jerr = require("awspromise.core").json_decode_safe(text)
    if type(options) ~= "table" then
      fail("loadFromPath: " .. tostring(path) .. " is not a JSON object" .. (jerr and (": " .. jerr) or ""), 3)
    end
    options = config_keys.prepare(options, "loadFromPath " .. tostring(path), false)
    for name in pairs(config_keys.KEYS) do cfg[name] = nil end
    cfg.httpOptions, cfg.paramValidation, cfg.correctClockSkew = {timeout = 120000}, true, false
    cfg.update(options)
    return cfg
  end
end

-- The call's params over the client's bound `params` (only those the operation has).
function config_keys.bind_params(service, op, params)
  local bound = service.config.params
  if not bound then return params end
  local members = service.model:operation(op).input
  local merged = {}
  for k, v in pairs(bound) do
    if members == nil or members[k] ~= nil then merged[k] = v end
  end
  for k, v in pairs(params or {}) do merged[k] = v end
  return merged
end

local BASE_USER_AGENT = "awspromise/" .. require("awspromise.version") .. " lua/5.4"

local NO_ACCELERATE = {CreateBucket = true, DeleteBucket = true, ListBuckets = true}

-- S3 Transfer Acceleration: the bucket's name.s3-accelerate[.dualstack].amazonaws.com.
local function accelerate(service, op, params, http_request)
  local bucket = type(params) == "table" and params.Bucket
  if NO_ACCELERATE[op] or type(bucket) ~= "string" or bucket:find(".", 1, true)
    or not require("awspromise.s3").dns_compatible_bucket(bucket) then return end
  local scheme, host, rest = http_request.url:match("^(%a+://)([^/?]*)(.*)$")
  if host:sub(1, #bucket + 1) ~= bucket .. "." and rest:sub(1, #bucket + 1) == "/" .. bucket then
    rest = rest:sub(#bucket + 2)
    if rest == "" or rest:sub(1, 1) == "?" then rest = "/" .. rest end
  end
  local hostname = bucket .. ".s3-accelerate" .. (service.config.useDualstackEndpoint and ".dualstack" or "")
    .. ".amazonaws.com"
  http_request.url = scheme .. hostname .. rest
  http_request.hostname = hostname
end

-- What the configuration changes in one built request.
function config_keys.finish_http(service, op, params, http_request)
  local config = service.config
  local headers = http_request.headers
  if config.customUserAgent then
    headers["User-Agent"] = BASE_USER_AGENT .. " " .. tostring(config.customUserAgent)
  end
  if config.computeChecksums == false and headers["Content-MD5"] and (params or {}).ContentMD5 == nil then
    headers["Content-MD5"] = nil
  end
  if config.useAccelerateEndpoint and service.serviceIdentifier == "s3" then
    accelerate(service, op, params, http_request)
  end
end

local function with_check(request, check)
  local previous = request.checkResponse
  request.checkResponse = previous and function(req, ok, value, result)
    ok, value = previous(req, ok, value, result)
    return check(req, ok, value, result)
  end or check
end

-- dynamoDbCrc32 = false: a reply whose x-amz-crc32 does not match is parsed without the check.
local function skip_crc32(req, ok, value, result)
  if ok or type(value) ~= "table" or value.code ~= "CRC32CheckFailed" then return ok, value end
  local headers = {}
  for k, v in pairs(result.headers) do headers[k] = v end
  headers["x-amz-crc32"] = nil
  local copy = {}
  for k, v in pairs(result) do copy[k] = v end
  copy.headers = headers
  return require("awspromise.core").parse_response(req.op.handle, copy)
end

-- maxRedirects: a 3xx with a Location is sent again there (a retry, so it waits the backoff).
local function follow_redirect(req, ok, value, result)
  local location = not ok and type(value) == "table" and result.headers and result.headers.location
  local status = result.statusCode or 0
  if not location or status < 300 or status >= 400 then return ok, value end
  local limit = req.service.config.maxRedirects or 10
  local count = req.redirectCount or 0
  if count >= limit then return ok, value end
  req.redirectCount = count + 1
  req.httpRequest.url = location
  value.redirect, value.retryable = true, true
  return ok, value
end

-- What the configuration changes in the handling of one request's replies.
function config_keys.request(service, request)
  local config = service.config
  if config.dynamoDbCrc32 == false and service.serviceIdentifier == "dynamodb" then
    with_check(request, skip_crc32)
  end
  if config.maxRedirects ~= 0 then with_check(request, follow_redirect) end
  if request.op.endpointDiscovery then -- endpointDiscoveryEnabled, endpointCacheSize
    require("awspromise.endpoint_discovery").attach(service, request, with_check)
  end
end

return config_keys
