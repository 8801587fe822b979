-- Endpoint resolution: which URL a service client talks to and which region and service name
-- it signs for. Pure computation, no I/O except reading the rules data once per state.
--
--   endpoints.resolve(opts) -> {
--       url = "https://host[:port][/path]",  hostname = "host",  port = 443,  protocol = "https",
--       path = "" | "/base/path",  signingRegion = "us-east-1",  signingName = "iam",
--       region = effective region,  partition = "aws", dnsSuffix = "amazonaws.com",
--       isGlobalEndpoint = bool,  source = "rules" | "endpoint" | "AWS_ENDPOINT_URL_<ID>" | "AWS_ENDPOINT_URL" }
--     opts: serviceId (metadata.json id, e.g. "s3"), sdkServiceId (the model's metadata.serviceId,
--       e.g. "DynamoDB", "Cognito Identity"; names the AWS_ENDPOINT_URL_<ID> variable, serviceId when
--       absent), endpointPrefix, signingName, globalEndpoint (model metadata), region, endpoint (user
--       override: string "scheme://host:port/path", a bare "host[:port][/path]", or a table with
--       url/href), useFipsEndpoint, useDualstackEndpoint, sslEnabled (default true),
--       stsRegionalEndpoints ("legacy" default | "regional"), s3UsEast1RegionalEndpoint ("legacy"
--       default | "regional"), env (a table or a function name -> value; default os.getenv).
--
--   endpoints.parse_url(s[, sslEnabled]) -> {url=, protocol=, hostname=, port=, path=}
--   endpoints.partition(region)          -> name, dnsSuffix
--   endpoints.env_var_name(sdkServiceId) -> "AWS_ENDPOINT_URL_<ID>"
--   endpoints.default_env                -> the os.getenv-backed env table
--
-- Where a request about one S3 bucket goes on the resolved endpoint is awspromise.s3's question.
--
-- Rules (facts of AWS and of the JavaScript SDK v2, whose lib/region_config_data.json is shipped
-- as models/region_config_data.json and read here):
--  * an explicit `endpoint` wins, then $AWS_ENDPOINT_URL_<SERVICE_ID>, then $AWS_ENDPOINT_URL
--    (both ignored when $AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is "true"); such an endpoint is used
--    as given and signed for `region`;
--  * otherwise the first rule found under the keys region/prefix, regionPrefix/prefix, region/*,
--    regionPrefix/*, */prefix, */* of the rule set chosen by the fips and dualstack flags
--    (regionPrefix: "us-gov-west-1" -> "us-gov-*"), with {service} = endpointPrefix, {region};
--  * STS: the global endpoint (https://sts.amazonaws.com, signed for us-east-1) only with
--    stsRegionalEndpoints "legacy" in the 16 legacy regions (and for region "aws-global"); every
--    other region, and "regional", use sts.<region>.<suffix>;
--  * S3 in us-east-1 is s3.amazonaws.com unless s3UsEast1RegionalEndpoint is "regional";
--  * a region "fips-<r>" / "<r>-fips" means <r> with FIPS; "aws-global" means us-east-1 (global
--    endpoint); "aws-us-gov-global" means us-gov-west-1;
--  * a global endpoint reached through a FIPS or dualstack variant that has no region in its
--    host name (iam-fips.amazonaws.com) keeps the global signing region;
--  * a model's metadata.globalEndpoint (savingsplans.amazonaws.com) is used, signed for us-east-1,
--    in the aws partition when the rules have nothing specific for the service.
local make_error = require("awspromise.promise").make_error

local M = {}

local function fail(message, level)
  error(make_error("ConfigError", message), (level or 1) + 1)
end

-- ---------------------------------------------------------------- data

local rules_data

local function data()
  if not rules_data then
    local text = require("awspromise.models").read_data("region_config_data.json")
    local decoded = require("awspromise.core").json_decode(text)
    if type(decoded) ~= "table" or type(decoded.rules) ~= "table" or type(decoded.patterns) ~= "table" then
      error(make_error("ModelError", "region_config_data.json: rules and patterns objects expected"), 0)
    end
    rules_data = decoded
  end
  return rules_data
end

-- Partitions: name and DNS suffix by region name (facts; the first match wins).
local PARTITIONS = {
  {"^us%-gov%-%w+%-%d+$", "aws-us-gov", "amazonaws.com"},
  {"^us%-iso%-%w+%-%d+$", "aws-iso", "c2s.ic.gov"},
  {"^us%-isob%-%w+%-%d+$", "aws-iso-b", "sc2s.sgov.gov"},
  {"^eu%-isoe%-%w+%-%d+$", "aws-iso-e", "cloud.adc-e.uk"},
  {"^us%-isof%-%w+%-%d+$", "aws-iso-f", "csp.hci.ic.gov"},
  {"^cn%-%w+%-%d+$", "aws-cn", "amazonaws.com.cn"},
}

function M.partition(region)
  if type(region) == "string" then
    for _, p in ipairs(PARTITIONS) do
      if region:match(p[1]) then return p[2], p[3] end
    end
  end
  return "aws", "amazonaws.com"
end

-- The regions where STS's "legacy" setting means the global endpoint.
local STS_LEGACY_GLOBAL = {}
for r in ([[ap-northeast-1 ap-south-1 ap-southeast-1 ap-southeast-2 aws-global ca-central-1
  eu-central-1 eu-north-1 eu-west-1 eu-west-2 eu-west-3 sa-east-1 us-east-1 us-east-2
  us-west-1 us-west-2]]):gmatch("%S+") do STS_LEGACY_GLOBAL[r] = true end

-- ---------------------------------------------------------------- environment

M.default_env = setmetatable({}, {__index = function(_, name) return os.getenv(name) end})

local function env_get(env, name)
  local v
  if type(env) == "function" then
    v = env(name)
  else
    v = env[name]
  end
  if v == nil or v == "" then return nil end
  if type(v) ~= "string" then
    fail("environment value " .. name .. " must be a string, got " .. type(v), 3)
  end
  return v
end

function M.env_var_name(sdkServiceId)
  return "AWS_ENDPOINT_URL_" .. tostring(sdkServiceId):upper():gsub("[%s%-]", "_")
end

-- ---------------------------------------------------------------- URLs

local DEFAULT_PORT = {http = 80, https = 443}

-- Parses an endpoint URL; raises a ConfigError naming the problem. `what` names the setting.
local function parse_url(s, ssl, what, level)
  level = (level or 1) + 1
  what = what or "endpoint"
  if type(s) ~= "string" then fail(what .. " must be a string URL, got " .. type(s), level) end
  local text = s:match("^%s*(.-)%s*$")
  if text == "" then fail(what .. " is empty", level) end
  if text:find("[%c%s]") then
    fail(what .. " '" .. text .. "' contains whitespace or control characters", level)
  end
  local scheme, rest = text:match("^(%a[%w+.-]*)://(.*)$")
  if scheme then
    scheme = scheme:lower()
    if not DEFAULT_PORT[scheme] then
      fail(what .. " '" .. text .. "' has the unsupported scheme '" .. scheme .. "' (http or https expected)", level)
    end
  elseif text:find("://", 1, true) then
    fail(what .. " '" .. text .. "' has a malformed scheme (http or https expected)", level)
  else
    scheme, rest = (ssl == false) and "http" or "https", text
  end
  if rest:find("[?#]") then
    fail(what .. " '" .. text .. "' has a query or fragment; only scheme, host, port and path are allowed", level)
  end
  local authority, path = rest:match("^([^/]*)(.*)$")
  if authority:find("@", 1, true) then
    -- The URL is not repeated: it may hold a password.
    fail(what .. " has user information (user@ or user:password@) before the host, which is not supported", level)
  end
  local host, port
  if authority:sub(1, 1) == "[" then
    host, port = authority:match("^(%[[%x:.]+%])(.*)$")
    if not host then fail(what .. " '" .. text .. "' has a malformed IPv6 host", level) end
  else
    host, port = authority:match("^([^:]*)(.*)$")
    if host == "" then fail(what .. " '" .. text .. "' has no host", level) end
    if not host:match("^[%w_-][%w._-]*$") or host:find("..", 1, true) then
      fail(what .. " '" .. text .. "' has an invalid host '" .. host .. "'", level)
    end
  end
  local portnum
  if port ~= "" then
    local digits = port:match("^:(%d+)$")
    portnum = digits and #digits <= 5 and tonumber(digits)
    if not portnum or portnum < 1 or portnum > 65535 then
      fail(what .. " '" .. text .. "' has an invalid port '" .. port:sub(2) .. "'", level)
    end
  end
  path = path:gsub("/+$", "")
  local default = DEFAULT_PORT[scheme]
  portnum = portnum or default
  local authority_out = host .. (portnum ~= default and (":" .. portnum) or "")
  return {
    url = scheme .. "://" .. authority_out .. path,
    protocol = scheme,
    hostname = host,
    port = portnum,
    path = path,
  }
end

function M.parse_url(s, sslEnabled)
  return parse_url(s, sslEnabled, "endpoint", 2)
end

-- ---------------------------------------------------------------- rules

local function region_prefix(region)
  local parts = {}
  for part in region:gmatch("[^-]+") do parts[#parts + 1] = part end
  if #parts < 3 then return nil end
  return table.concat(parts, "-", 1, #parts - 2) .. "-*"
end

-- The rule for (region, endpointPrefix) in one rule set, the key it was found under, and
-- whether that key names the service.
local function lookup(set, region, prefix, skip)
  local d = data()
  local rp = region and region_prefix(region)
  local keys = {
    region and (region .. "/" .. prefix) or false, rp and (rp .. "/" .. prefix) or false,
    region and (region .. "/*") or false, rp and (rp .. "/*") or false,
    "*/" .. prefix, "*/*",
  }
  for _, key in ipairs(keys) do
    if key and key ~= skip then
      local rule = set[key]
      if rule ~= nil then
        if type(rule) == "string" then rule = d.patterns[rule] end
        if type(rule) == "table" and type(rule.endpoint) == "string" then
          return rule, key, key:sub(-(#prefix + 1)) == "/" .. prefix
        end
      end
    end
  end
  return nil
end

local function rule_set(fips, dualstack)
  local d = data()
  local name = fips and (dualstack and "dualstackFipsRules" or "fipsRules")
    or (dualstack and "dualstackRules" or "rules")
  return d[name] or {}
end

local function expand(template, prefix, region, ssl)
  if region == nil and template:find("{region}", 1, true) then return nil end
  local s = template:gsub("{service}", prefix):gsub("{scheme}", ssl and "https" or "http")
  if region then s = s:gsub("{region}", region) end
  local scheme, host = s:match("^(%a+)://(.*)$")
  if not scheme then scheme, host = ssl and "https" or "http", s end
  return scheme, host
end

local function flag(value, env, env_name, option, level)
  local from_env = false
  if value == nil then
    value = env_get(env, env_name)
    from_env = value ~= nil
  end
  if value == nil then return "legacy" end
  local v = type(value) == "string" and value:lower() or nil
  if v ~= "legacy" and v ~= "regional" then
    fail((from_env and ("environment variable " .. env_name) or option) .. " must be 'legacy' or 'regional', got '"
      .. tostring(value) .. "'", level + 1)
  end
  return v
end

local function bool_option(value, env, env_name, option, level)
  if value ~= nil then
    if type(value) ~= "boolean" then fail(option .. " must be a boolean, got " .. type(value), level + 1) end
    return value
  end
  local v = env_get(env, env_name)
  if v == nil then return false end
  v = v:lower()
  if v == "true" then return true elseif v == "false" then return false end
  fail("environment variable " .. env_name .. " must be 'true' or 'false', got '" .. v .. "'", level + 1)
end

local REGION_LABEL = "^[%w][%w-]*$"

local function check_region(region, level)
  if region == nil then return nil end
  if type(region) ~= "string" then fail("region must be a string, got " .. type(region), level + 1) end
  if region == "" then fail("region is empty", level + 1) end
  if #region > 63 or not region:match(REGION_LABEL) or region:sub(-1) == "-" then
    fail("invalid region '" .. region .. "' in config: a region is a DNS label (letters, digits and inner hyphens)",
      level + 1)
  end
  return region
end

-- "fips-us-east-1" -> "us-east-1", fips; "aws-global" -> "us-east-1", global.
local function real_region(region)
  if region == nil then return nil, false, false end
  if region == "aws-global" then return "us-east-1", false, true end
  if region == "aws-fips" or region == "fips-aws-global" then return "us-east-1", true, true end
  if region == "aws-us-gov-global" then return "us-gov-west-1", false, true end
  if region == "fips-aws-us-gov-global" then return "us-gov-west-1", true, true end
  local fips = false
  local r = region
  local stripped = r:match("^fips%-dkr%-(.+)$") or r:match("^fips%-prod%-(.+)$") or r:match("^fips%-(.+)$")
  if stripped then r, fips = stripped, true end
  stripped = r:match("^(.+)%-fips$")
  if stripped then r, fips = stripped, true end
  return r, fips, false
end

local function custom_endpoint(opts, env, ssl, level)
  local ep = opts.endpoint
  if ep ~= nil then
    if type(ep) == "table" then
      ep = ep.url or ep.href
      if ep == nil then fail("endpoint table needs a url (or href) field", level + 1) end
    end
    if ep ~= "" then return parse_url(ep, ssl, "endpoint", level + 1), "endpoint" end
  end
  local ignore = env_get(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
  if ignore and ignore:lower() == "true" then return nil end
  local id = opts.sdkServiceId or opts.serviceId
  if id ~= nil then
    local name = M.env_var_name(id)
    local v = env_get(env, name)
    if v then return parse_url(v, ssl, "environment variable " .. name, level + 1), name end
  end
  local v = env_get(env, "AWS_ENDPOINT_URL")
  if v then return parse_url(v, ssl, "environment variable AWS_ENDPOINT_URL", level + 1), "AWS_ENDPOINT_URL" end
  return nil
end

function M.resolve(opts)
  if type(opts) ~= "table" then fail("endpoints.resolve: options table expected, got " .. type(opts), 2) end
  local level = 2
  local prefix = opts.endpointPrefix or opts.serviceId
  if type(prefix) ~= "string" or prefix == "" then
    fail("endpoints.resolve: the service has no endpointPrefix", level)
  end
  local env = opts.env
  if env == nil then env = M.default_env end
  if type(env) ~= "table" and type(env) ~= "function" then
    fail("env must be a table or a function, got " .. type(env), level)
  end
  local ssl = opts.sslEnabled
  if ssl == nil then ssl = true end
  if type(ssl) ~= "boolean" then fail("sslEnabled must be a boolean, got " .. type(ssl), level) end

  local asked_region = check_region(opts.region, level)
  local region, region_fips, global_region = real_region(asked_region)
  local fips = bool_option(opts.useFipsEndpoint, env, "AWS_USE_FIPS_ENDPOINT", "useFipsEndpoint", level)
    or region_fips
  local dual = opts.useDualstackEndpoint
  if dual == nil then dual = opts.useDualstack end
  dual = bool_option(dual, env, "AWS_USE_DUALSTACK_ENDPOINT", "useDualstackEndpoint", level)
  local signing_name = opts.signingName or prefix
  local is_s3 = prefix == "s3"
  local is_sts = prefix == "sts"

  local partition, suffix = M.partition(region)
  local result = {
    signingName = signing_name, region = region, partition = partition, dnsSuffix = suffix,
    isGlobalEndpoint = false,
  }

  -- The rule-based answer, computed also under a custom endpoint for a missing region's sake.
  local function from_rules()
    local skip
    local sts_global = false
    if is_sts and not fips and not dual then
      local mode = flag(opts.stsRegionalEndpoints, env, "AWS_STS_REGIONAL_ENDPOINTS", "stsRegionalEndpoints", level + 1)
      if (global_region and region == "us-east-1") or (region == nil and mode == "legacy") then
        sts_global = true
      elseif mode == "regional" or not STS_LEGACY_GLOBAL[region] then
        skip = "*/sts"
        if region == nil then fail("Missing region in config (STS with regional endpoints needs a region)", level + 1) end
      else
        sts_global = true
      end
    end
    local set = rule_set(fips, dual)
    local rule, _, specific
    if sts_global then
      rule, specific = data().patterns.globalSSL, true
    else
      rule, _, specific = lookup(set, region, prefix, skip)
    end
    if not rule then fail("no endpoint rule for service '" .. prefix .. "' in region '" .. tostring(region) .. "'", level + 1) end
    local signing_region = rule.signingRegion
    local global = rule.globalEndpoint == true

    local scheme, host = expand(rule.endpoint, prefix, region, ssl)
    if not scheme then
      fail("Missing region in config (service '" .. prefix .. "' has regional endpoints)", level + 1)
    end

    -- metadata.globalEndpoint: a global service that the rules do not know.
    if not specific and not fips and not dual and not is_s3 and not is_sts and partition == "aws"
      and type(opts.globalEndpoint) == "string" and opts.globalEndpoint ~= "" then
      host, signing_region, global = opts.globalEndpoint, "us-east-1", true
    end

    -- S3 in us-east-1: s3.amazonaws.com unless regional is asked for.
    if is_s3 and region == "us-east-1" and not fips and not dual and not global_region then
      local mode = flag(opts.s3UsEast1RegionalEndpoint, env, "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT",
        "s3UsEast1RegionalEndpoint", level + 1)
      if mode == "regional" and host == "s3.amazonaws.com" then host = "s3.us-east-1.amazonaws.com" end
    end

    -- Variants of a global endpoint without a region in the name keep its signing region.
    if (fips or dual) and not signing_region then
      local base = lookup(rule_set(false, false), region, prefix)
      if base and base.globalEndpoint and base.signingRegion and not (region and host:find(region, 1, true)) then
        signing_region, global = base.signingRegion, true
      end
    end
    return scheme, host, signing_region or region, global
  end

  local custom, source = custom_endpoint(opts, env, ssl, level)
  if custom then
    result.url, result.protocol, result.hostname = custom.url, custom.protocol, custom.hostname
    result.port, result.path, result.source = custom.port, custom.path, source
    if region then
      result.signingRegion = region
    else
      local ok, _, _, signing_region, global = pcall(from_rules)
      if not ok or not global then
        fail("Missing region in config (needed to sign for the " .. source .. " endpoint " .. custom.url .. ")", level)
      end
      result.signingRegion = signing_region
    end
    return result
  end

  local scheme, host, signing_region, global = from_rules()
  result.protocol, result.hostname, result.port, result.path = scheme, host, DEFAULT_PORT[scheme] or 443, ""
  result.url = scheme .. "://" .. host
  result.signingRegion = signing_region
  result.isGlobalEndpoint = global
  result.source = "rules"
  if not region then result.region = signing_region end
  return result
end

return M
