-- S3 as the JavaScript SDK v2 makes it (its lib/services/s3.js): the managed upload (s3:upload,
-- AWS.S3.ManagedUpload), createBucket's LocationConstraint, SSE-C keys, Expect: 100-continue for
-- large bodies, ARNs as Bucket refused, and the region redirect with a per-client bucket region
-- cache.
local core = require "awspromise.core"
local support = require "awspromise.customizations.support"
local s3_upload = require "awspromise.s3_upload"

local crypto = core.crypto
local make_error = support.make_error

local EXPECT_CONTINUE_ABOVE = 1024 * 1024 -- JS v2's threshold, in bytes

-- ---------------------------------------------------------------- params

-- Outside us-east-1 (and off the global endpoint) S3 refuses a createBucket without the region.
local function add_location_constraint(service, params)
  local region = service.config.region
  if params.CreateBucketConfiguration ~= nil or region == nil or region == "us-east-1" then return end
  if service:resolvedEndpoint().url:find("^%a+://s3%.amazonaws%.com") then return end
  params.CreateBucketConfiguration = {LocationConstraint = region}
end

local function refuse_arn_bucket(params)
  local bucket = params.Bucket
  if type(bucket) ~= "string" or bucket:sub(1, 4) ~= "arn:" then return end
  local kind = bucket:find(":s3-outposts:", 1, true) and "Outposts" or "access-point"
  error(make_error("InvalidParameter", ("Bucket %q is an %s ARN: awspromise addresses buckets by name only "
    .. "(access points and Outposts are not supported); use the bucket's name"):format(bucket, kind)), 0)
end

-- ---------------------------------------------------------------- the built request

local SSE_C = {
  {param = "SSECustomerKey", header = "x-amz-server-side-encryption-customer-key",
   md5Param = "SSECustomerKeyMD5"},
  {param = "CopySourceSSECustomerKey", header = "x-amz-copy-source-server-side-encryption-customer-key",
   md5Param = "CopySourceSSECustomerKeyMD5"},
}

local function header_name(headers, lower)
  for name in pairs(headers) do
    if name:lower() == lower then return name end
  end
  return nil
end

-- SSE-C: the key travels base64-encoded with the base64 MD5 of its bytes, over https only.
local function sse_customer_keys(http, req)
  local params = req.params
  for _, key in ipairs(SSE_C) do
    local raw = params[key.param]
    if type(raw) == "string" then
      if http.url:sub(1, 8) ~= "https://" then
        error(make_error("ConfigError", "Cannot send SSE keys over HTTP. Set 'sslEnabled' to 'true' in your configuration"), 0)
      end
      http.headers[header_name(http.headers, key.header) or key.header] = crypto.base64_encode(raw)
      if params[key.md5Param] == nil then
        local md5_header = key.header .. "-md5"
        http.headers[header_name(http.headers, md5_header) or md5_header] = crypto.base64_encode(crypto.md5(raw))
      end
    end
  end
end

-- A large body waits for the server's go-ahead, so that a refused upload is not sent whole.
local function expect_continue(http)
  local body = http.body
  if type(body) == "string" and #body > EXPECT_CONTINUE_ABOVE then
    support.set_header_unless_given(http, "Expect", "100-continue")
  end
end

-- ---------------------------------------------------------------- region redirects

local REDIRECT_CODES = {PermanentRedirect = true, AuthorizationHeaderMalformed = true}

-- The bucket's region a redirect names: the x-amz-bucket-region header, else the error body's.
local function redirect_region(value, result)
  if type(value) ~= "table" then return nil end
  local status = result and result.statusCode
  if not (REDIRECT_CODES[value.code] or status == 301) then return nil end
  local headers = result.headers or {}
  return headers["x-amz-bucket-region"] or (type(result.body) == "string" and result.body:match("<Region>([%w-]+)</Region>"))
end

-- An AWS endpoint of S3 (s3.amazonaws.com, s3.<region>..., s3-<region>...) moves to the region's;
-- a custom endpoint, an accelerate, dual-stack or FIPS one stays.
local function regional_url(url, region)
  local before, named, after = url:match("^(%a+://[^/?]-)s3[.-]?([%w-]*)%.amazonaws%.com([/?].*)$")
  if not before or named == "accelerate" then return url end
  return before .. "s3." .. region .. ".amazonaws.com" .. after
end

-- The client remembers this many buckets' regions, then starts afresh rather than grow.
local BUCKET_REGION_LIMIT = 1000

local function remember_region(service, bucket, region)
  local regions = service.bucketRegionCache
  if not regions or service.bucketRegionCount >= BUCKET_REGION_LIMIT then
    regions = {}
    service.bucketRegionCache, service.bucketRegionCount = regions, 0
  end
  if not regions[bucket] then service.bucketRegionCount = service.bucketRegionCount + 1 end
  regions[bucket] = region
end

-- Each attempt signs for the bucket's known region (and goes to its endpoint).
local function sign_for_bucket_region(req)
  local service = req.service
  local bucket = req.params.Bucket
  local region = type(bucket) == "string" and service.bucketRegionCache and service.bucketRegionCache[bucket]
  if not region or not req.credentials or region == service:resolvedEndpoint().signingRegion then return end
  local http = req.httpRequest
  http.sign = service:signingOptions(req.credentials, region)
  http.url = regional_url(http.url, region)
  local _, hostname = support.origin(http.url)
  http.hostname, req.hostname = hostname, hostname
end

-- A redirect names the bucket's region: cached, and the request is retried there once.
local function check_redirect(req, ok, value, result)
  if ok or req.s3RegionRedirected then return ok, value end
  local region = redirect_region(value, result)
  local bucket = req.params.Bucket
  if not region or type(bucket) ~= "string" then return ok, value end
  remember_region(req.service, bucket, region)
  req.s3RegionRedirected = true
  req:on("sign", sign_for_bucket_region) -- the retry signs for the region
  value.region, value.retryable, value.redirect = region, true, true
  return ok, value
end

-- ---------------------------------------------------------------- hooks

-- Listeners only where the params call for them: an ordinary request gets none (a request with
-- listeners takes the slower path in request.lua).
local function request_hook(service, request)
  local params = request.params
  local bucket = params.Bucket
  if type(bucket) == "string" and bucket:sub(1, 4) == "arn:" then
    request:on("validate", function(req) refuse_arn_bucket(req.params) end)
  end
  if request.operation == "CreateBucket" then
    support.rewrite_params(request, function(copy) add_location_constraint(service, copy) end)
  end
  local body = params.Body
  if params.SSECustomerKey ~= nil or params.CopySourceSSECustomerKey ~= nil
    or (type(body) == "string" and #body > EXPECT_CONTINUE_ABOVE) then
    support.after_build(request, function(http, req)
      sse_customer_keys(http, req)
      expect_continue(http)
    end)
  end
  local known = service.bucketRegionCache
  if known and type(bucket) == "string" and known[bucket] then request:on("sign", sign_for_bucket_region) end
  -- the first look at replies: the configuration's (config_keys.lua) wrap it afterwards
  request.checkResponse = check_redirect
end

local function setup(service)
  service.upload = s3_upload.method
end

return {
  setup = setup, request = request_hook,
  classMembers = {ManagedUpload = function() return s3_upload.ManagedUpload end},
}
