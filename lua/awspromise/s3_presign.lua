-- Presigned requests, JS v2's names: client:getSignedUrl / getSignedUrlPromise (any service) and
-- s3:createPresignedPost (browser form uploads). Installed on AWS.Service by service.lua.
--
--   client:getSignedUrl(operation, params)            -> url (credentials must be at hand)
--   client:getSignedUrl(operation, params, callback)  -> nil; callback(err, url) once the
--                                                        credentials resolved
--   client:getSignedUrlPromise(operation, params)     -> promise of the url
--     operation  "getObject" or "GetObject"; params.Expires: seconds (default 900, at most 7 days)
--     S3 signs UNSIGNED-PAYLOAD; its x-amz-* headers (ACL, metadata, SSE, tagging...) move into the
--     signed query, except the SSE-C key headers, which S3 only takes as headers: those, like
--     Content-Type and Content-MD5, are signed headers the fetcher must send as given. A query
--     (or EC2) service's form body becomes the query of a GET.
--   s3:createPresignedPost{Bucket =, Fields =, Conditions =, Expires = 3600} [, callback]
--                                                     -> {url =, fields =}: the form's action and
--                                                        its fields (Policy, X-Amz-Signature, ...)
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local signer = require "awspromise.signer"
local s3 = require "awspromise.s3"

local make_error = Promise.make_error

local presign = {MAX_EXPIRES = 604800}

local function invalid(code, message)
  error(make_error(code, message, {retryable = false}), 0)
end

local function expiry(value, default)
  if value == nil then return default end
  if math.type(value) ~= "integer" and not (type(value) == "number" and value == math.floor(value)) then
    invalid("InvalidParameterType", "Expires must be a whole number of seconds, got " .. tostring(value))
  end
  if value < 1 then invalid("InvalidParameter", "Expires must be at least 1 second, got " .. value) end
  if value > presign.MAX_EXPIRES then
    invalid("InvalidExpiryTime", "Presigning does not support expiry time greater than a week with SigV4 signing.")
  end
  return math.tointeger(value)
end

local function operation_name(service, operation)
  if type(operation) ~= "string" or operation == "" then
    invalid("InvalidParameter", "getSignedUrl: the operation must be a name such as 'getObject'")
  end
  local name = operation:sub(1, 1):upper() .. operation:sub(2)
  if not service.opCache[name] then
    invalid("InvalidParameter", tostring(service.serviceIdentifier) .. " has no operation named '" .. operation .. "'")
  end
  return name
end

-- The SSE-C headers are refused by S3 in a query string.
local function hoistable(lower)
  return lower:sub(1, 6) == "x-amz-" and lower ~= "x-amz-content-sha256"
    and lower:find("^x%-amz%-server%-side%-encryption%-customer%-") == nil
    and lower:find("^x%-amz%-copy%-source%-server%-side%-encryption%-customer%-") == nil
end

local function encode(s)
  return signer.uri_encode(s)
end

-- The request as signed: {method, path, query, headers = {{name, value}...}} and the origin.
local function presignable(service, http)
  local origin, path, query = http.url:match("^(%a[%w+.-]*://[^/?]*)([^?]*)%??(.*)$")
  local host = origin:match("://(.*)$")
  local headers, hoisted = {{"Host", host}}, {}
  local names = {}
  for name in pairs(http.headers or {}) do names[#names + 1] = name end
  table.sort(names)
  local is_s3 = service.serviceIdentifier == "s3"
  local method = http.method
  local content_type = http.headers and (http.headers["Content-Type"] or http.headers["content-type"])
  local form = not is_s3 and method == "POST" and type(content_type) == "string"
    and content_type:find("^application/x%-www%-form%-urlencoded") ~= nil
  for _, name in ipairs(names) do
    local value, lower = tostring(http.headers[name]), name:lower()
    if is_s3 and hoistable(lower) then
      hoisted[#hoisted + 1] = encode(lower) .. "=" .. encode(value)
    elseif not (form and lower == "content-type") then
      headers[#headers + 1] = {name, value}
    end
  end
  if form then
    method = "GET"
    query = (query ~= "" and (query .. "&") or "") .. (http.body or "")
  end
  if #hoisted > 0 then query = (query ~= "" and (query .. "&") or "") .. table.concat(hoisted, "&") end
  return {method = method, path = path == "" and "/" or path, query = query, headers = headers,
    body = (not form and not is_s3) and http.body or nil}, origin
end

-- The URL, given credentials.
local function signed_url(service, operation, params, creds)
  local rest = {}
  for k, v in pairs(params or {}) do if k ~= "Expires" then rest[k] = v end end
  local expires = expiry(params and params.Expires, 900)
  local http = service:buildHttpRequest(operation, rest)
  local request, origin = presignable(service, http)
  local ep = service:resolvedEndpoint()
  local signed = signer.sign(request, creds, {
    region = ep.signingRegion, service = ep.signingName, presign = expires,
    time = os.time() + (service.config.systemClockOffset or 0),
  })
  return origin .. signed.url
end

-- Runs make(creds) now when credentials are at hand, else once they resolve: the promise of
-- its result.
local function with_credentials(service, make)
  return Promise.new(function(fulfill, fail)
    local ok, creds, pending = pcall(service.cachedCredentials, service)
    if not ok then return fail(creds) end
    local function finish(c)
      local fine, value = pcall(make, c)
      if fine then fulfill(value) else fail(value) end
    end
    if creds then return finish(creds) end
    pending:next(finish, fail)
  end)
end

local function needs_credentials(service, what)
  local ok, creds = pcall(service.cachedCredentials, service)
  if ok and creds then return creds end
  if not ok then error(creds, 0) end
  -- keys given in the configuration are at hand before the provider chain first ran
  local given = service.config.credentials
  if type(given) == "table" and type(given.accessKeyId) == "string" and type(given.secretAccessKey) == "string" then
    return given
  end
  invalid("CredentialsError", what .. ": the credentials are not resolved yet; pass a callback or use the promise form")
end

local function settle_callback(p, callback)
  p:next(function(v) callback(nil, v) end, function(err) callback(err, nil) end)
end

-- ---------------------------------------------------------------- createPresignedPost

local function iso8601_ms(t)
  return os.date("!%Y-%m-%dT%H:%M:%S.000Z", t)
end

local function presigned_post(service, params, creds)
  if type(params) ~= "table" then invalid("InvalidParameterType", "createPresignedPost: params must be a table") end
  local fields = {}
  for k, v in pairs(params.Fields or {}) do fields[k] = v end
  local bucket = params.Bucket or fields.bucket
  if type(bucket) ~= "string" or bucket == "" then
    invalid("ConfigError", "createPresignedPost requires a Bucket parameter")
  end
  local conditions = {}
  for i, c in ipairs(params.Conditions or {}) do conditions[i] = c end
  local expires = expiry(params.Expires, 3600)
  local ep = service:resolvedEndpoint()
  local now = os.time() + (service.config.systemClockOffset or 0)
  local amz_date = signer.amz_date(now)
  local region = ep.signingRegion
  fields.bucket = bucket
  fields["X-Amz-Date"] = amz_date
  fields["X-Amz-Algorithm"] = "AWS4-HMAC-SHA256"
  fields["X-Amz-Credential"] = table.concat({creds.accessKeyId, amz_date:sub(1, 8), region, "s3", "aws4_request"}, "/")
  if creds.sessionToken and creds.sessionToken ~= "" then fields["X-Amz-Security-Token"] = creds.sessionToken end
  local names = {}
  for k in pairs(fields) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do conditions[#conditions + 1] = {[k] = fields[k]} end
  local policy = core.crypto.base64_encode(core.json_encode {expiration = iso8601_ms(now + expires), conditions = conditions})
  fields.Policy = policy
  fields["X-Amz-Signature"] = signer.signature(policy, creds, {region = region, service = "s3", time = now})
  if not ep.protocol then
    ep.protocol, ep.hostname, ep.port = ep.url:match("^(%a[%w+.-]*)://([^:/]+):?(%d*)")
    ep.port = tonumber(ep.port)
  end
  local address, path = s3.address(ep, bucket, "/" .. encode(bucket), service.config)
  return {url = address.baseUrl .. (path == "/" and "" or path), fields = fields}
end

-- ---------------------------------------------------------------- installation

function presign.install(Service)
  function Service:getSignedUrlPromise(operation, params)
    local name = operation_name(self, operation)
    return with_credentials(self, function(creds) return signed_url(self, name, params, creds) end)
  end

  function Service:getSignedUrl(operation, params, callback)
    if callback ~= nil then
      if not Promise.callable(callback) then invalid("InvalidParameter", "getSignedUrl: the callback must be callable") end
      settle_callback(self:getSignedUrlPromise(operation, params), callback)
      return nil
    end
    local name = operation_name(self, operation)
    return signed_url(self, name, params, needs_credentials(self, "getSignedUrl"))
  end

  function Service:createPresignedPost(params, callback)
    if self.serviceIdentifier ~= "s3" then
      invalid("InvalidParameter", "createPresignedPost is an S3 operation")
    end
    if callback ~= nil then
      settle_callback(with_credentials(self, function(creds) return presigned_post(self, params, creds) end), callback)
      return nil
    end
    return presigned_post(self, params, needs_credentials(self, "createPresignedPost"))
  end
end

return presign
