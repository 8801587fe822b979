-- Endpoint discovery (Timestream Query and Write): an operation whose model says
-- `endpointdiscovery` is sent to the address the model's endpoint operation (DescribeEndpoints)
-- gives, cached per region, service, discovery endpoint and access key for its
-- CachePeriodInMinutes. JavaScript v2's lib/discover_endpoint.js is the reference:
--   required  the attempt waits for the address (one DescribeEndpoints at a time per key, the
--             other requests queue on it); endpointDiscoveryEnabled = false fails the request
--             with a ConfigurationException
--   optional  only when enabled (or when the service has a required operation): a cached
--             address is used, else the regional endpoint while DescribeEndpoints runs
-- DescribeEndpoints carries x-amz-api-version. A reply InvalidEndpointException (or HTTP 421)
-- drops the cached address; unlike JavaScript the attempt is retried, discovering anew.
-- Enabled: the client's endpointDiscoveryEnabled, else AWS_ENABLE_ENDPOINT_DISCOVERY or
-- AWS_ENDPOINT_DISCOVERY_ENABLED ("false" and "0" mean no). A configured `endpoint` turns
-- discovery off, as in JavaScript, unless endpointDiscoveryEnabled is true: then (where
-- JavaScript raises) DescribeEndpoints goes to that endpoint.
local core = require "awspromise.core"
local Promise = require "awspromise.promise"

local make_error = Promise.make_error

local discovery = {}

local ENV_NAMES = {"AWS_ENABLE_ENDPOINT_DISCOVERY", "AWS_ENDPOINT_DISCOVERY_ENABLED"}
local FAILED_RETRY_MS = 60000 -- an optional discovery that failed is not tried again for a minute

-- key -> {address =, expires = core.now() ms} or {pending = promise}
local cache, cache_size = {}, 0
local key_of_request = setmetatable({}, {__mode = "k"}) -- the attempt's cache key, for invalidation

local function configuration_error(message)
  return make_error("ConfigurationException", message, {retryable = false})
end

-- true, false or nil (not said anywhere)
local function enabled(config)
  if config.endpointDiscoveryEnabled ~= nil then return config.endpointDiscoveryEnabled end
  for _, name in ipairs(ENV_NAMES) do
    local value = os.getenv(name)
    if value == "" then error(configuration_error("environment variable " .. name .. " cannot be set to nothing"), 0) end
    if value then return value ~= "false" and value ~= "0" end
  end
  return nil
end

local endpoint_operations = setmetatable({}, {__mode = "k"}) -- model -> {name =, required =}

-- The model's endpoint operation and whether any operation requires discovery (once per model).
local function facts(service)
  local found = endpoint_operations[service.model]
  if found then return found end
  found = {}
  for name in pairs(service.model:operations()) do
    local op = service.model:operation(name)
    if op.endpointOperation then found.name = name end
    if op.endpointDiscovery == "required" then found.required = true end
  end
  endpoint_operations[service.model] = found
  return found
end

local function remove(key)
  if cache[key] then
    cache[key] = nil
    cache_size = cache_size - 1
  end
end

-- Keeps at most endpointCacheSize entries: the one closest to expiry goes first.
local function store(service, key, entry)
  if not cache[key] then cache_size = cache_size + 1 end
  cache[key] = entry
  local limit = service.config.endpointCacheSize or 1000
  while cache_size > limit do
    local oldest, at = nil, math.huge
    for k, e in pairs(cache) do
      if k ~= key and (e.expires or math.huge) <= at then oldest, at = k, e.expires or math.huge end
    end
    if not oldest then break end
    remove(oldest)
  end
end

local function lookup(key)
  local entry = cache[key]
  if entry and entry.expires and entry.expires <= core.now() then
    remove(key)
    return nil
  end
  return entry
end

local function key_of(req, credentials)
  local service = req.service
  local ep = service:resolvedEndpoint()
  return table.concat({service:region(), tostring(service.api.serviceId), ep.url,
    credentials and credentials.accessKeyId or ""}, "\0")
end

-- Points the attempt at the discovered address (host[:port], or a URL): the request's own path
-- and query stay; the scheme is the address's or the endpoint's.
local function address(req, where)
  local http = req.httpRequest
  local scheme, rest = where:match("^(%a[%w+.-]*://)(.*)$")
  local host = (rest or where):match("^[^/?#]*")
  local old_scheme, tail = http.url:match("^(%a[%w+.-]*://)[^/?#]*(.*)$")
  http.url = (scheme or old_scheme) .. host .. tail
  local hostname = host:gsub(":%d+$", "")
  http.hostname, req.hostname = hostname, hostname
end

-- Runs the endpoint operation; a promise of the address, which is cached under key.
local function describe(req, key)
  local service = req.service
  local name = facts(service).name
  if not name then
    return Promise.reject(make_error("EndpointDiscoveryError",
      tostring(service.serviceIdentifier) .. " has no endpoint operation in its model", {retryable = false}))
  end
  local params = {}
  if service.model:operation(name).input.Operation then params = {Operation = req.operation} end
  local call = service:makeRequest(name, params)
  local version = service.api.apiVersion
  call:on("build", function(r)
    if version and not r.httpRequest.headers["x-amz-api-version"] then
      r.httpRequest.headers["x-amz-api-version"] = version
    end
  end)
  local entry = {}
  entry.pending = call:promise():next(function(data)
    local first = type(data.Endpoints) == "table" and data.Endpoints[1]
    if not first or type(first.Address) ~= "string" or first.Address == "" then
      error(make_error("EndpointDiscoveryError", name .. " returned no endpoint", {retryable = false}), 0)
    end
    local minutes = tonumber(first.CachePeriodInMinutes) or 1
    if cache[key] == entry then store(service, key, {address = first.Address, expires = core.now() + minutes * 60000}) end
    return first.Address
  end, function(err)
    if cache[key] == entry then remove(key) end
    if type(err) == "table" then err.retryable = false end
    error(err, 0)
  end)
  store(service, key, entry)
  return entry.pending
end

-- The attempt's cache key (remembered for invalidation) and what the cache holds under it.
local function entry_for(req, credentials)
  local key = key_of(req, credentials)
  key_of_request[req] = key
  return key, lookup(key)
end

-- request.beforeSend for an operation that requires discovery.
local function required(req, credentials, go)
  local key, entry = entry_for(req, credentials)
  if entry and entry.address then
    address(req, entry.address)
    return go()
  end
  local pending = entry and entry.pending or describe(req, key)
  pending:next(function(where)
    address(req, where)
    go()
  end, function(err) go(err) end)
end

-- request.beforeSend for an operation where discovery is optional.
local function optional(req, credentials, go)
  local key, entry = entry_for(req, credentials)
  if entry and entry.address then
    if entry.address ~= "" then address(req, entry.address) end
  elseif not entry then
    describe(req, key):next(nil, function()
      store(req.service, key, {address = "", expires = core.now() + FAILED_RETRY_MS})
    end)
  end
  go()
end

-- An InvalidEndpointException (or 421) drops the address and retries, discovering anew.
local function invalidate(req, ok, value, result)
  if ok or type(value) ~= "table" then return ok, value end
  if value.code == "InvalidEndpointException" or (result and result.statusCode == 421) then
    local key = key_of_request[req]
    if key then remove(key) end
    value.retryable = true
  end
  return ok, value
end

-- Called for each request of an operation with the endpointdiscovery trait (config_keys.request).
function discovery.attach(service, request, with_check)
  local mode = request.op.endpointDiscovery
  local config = service.config
  local on = enabled(config)
  if config.endpoint and on ~= true then return end
  if mode == "required" and on == false then
    local message = ("Endpoint Discovery is disabled but %s.%s() requires it. Please check your configurations.")
      :format(tostring(service.api.serviceId), request.operation)
    request.beforeSend = function(_, _, go) go(configuration_error(message)) end
    return
  end
  if mode ~= "required" and not (on or facts(service).required) then return end
  request.beforeSend = mode == "required" and required or optional
  with_check(request, invalidate)
end

-- For specs: forget every cached address.
function discovery.clear()
  cache, cache_size = {}, 0
end

return discovery
