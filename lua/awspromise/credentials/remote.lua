-- Credentials from the local endpoints of the platform: the ECS/EKS container endpoint
-- (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI) and EC2 instance metadata (IMDSv2 with a
-- fallback to v1). Providers in the chain, and a profile's `credential_source` EcsContainer and
-- Ec2InstanceMetadata.
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local context = require "awspromise.credentials.context"

local raise, message_of, failed = context.raise, context.message_of, context.failed
local remote = {}

local IMDS_DEFAULT = "http://169.254.169.254"
local IMDS_IPV6 = "http://[fd00:ec2::254]"
local IMDS_TOKEN_TTL = 21600
local CONTAINER_DEFAULT = "http://169.254.170.2"

local function remote_json(ctx, res, what)
  if res.statusCode ~= 200 then
    return nil, ("%s answered HTTP %d"):format(what, res.statusCode)
  end
  local doc = core.json_decode_safe(res.body or "")
  if type(doc) ~= "table" then return nil, what .. " answered something that is not a JSON object" end
  ctx:secret(doc.SecretAccessKey)
  ctx:secret(doc.Token)
  if doc.Code ~= nil and doc.Code ~= "Success" then
    return nil, ("%s answered Code %s%s"):format(what, tostring(doc.Code),
      type(doc.Message) == "string" and (": " .. doc.Message) or "")
  end
  if type(doc.AccessKeyId) ~= "string" or type(doc.SecretAccessKey) ~= "string" then
    return nil, what .. " answered without AccessKeyId/SecretAccessKey"
  end
  local expire = doc.Expiration and context.parse_time(doc.Expiration)
  return {accessKeyId = doc.AccessKeyId, secretAccessKey = doc.SecretAccessKey,
    sessionToken = type(doc.Token) == "string" and doc.Token or nil, expireTime = expire}
end

local function allowed_container_host(url)
  if url:match("^https://") then return true end
  local host = url:match("^http://%[([^%]]+)%]") or url:match("^http://([^/:?#]+)")
  if not host then return false end
  host = host:lower()
  return host == "localhost" or host:match("^127%.%d+%.%d+%.%d+$") ~= nil or host == "::1"
    or host == "169.254.170.2" or host == "169.254.170.23" or host == "fd00:ec2::23"
end

function remote.container(ctx)
  local rel = ctx.getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
  local full = ctx.getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
  if not rel and not full then
    return nil, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set"
  end
  local url
  if rel then
    local base = (ctx.opts.containerEndpoint or CONTAINER_DEFAULT):gsub("/$", "")
    url = base .. (rel:sub(1, 1) == "/" and rel or "/" .. rel)
  else
    url = full
    if not allowed_container_host(url) then
      return failed(("AWS_CONTAINER_CREDENTIALS_FULL_URI %s: plain http is only allowed to a loopback " ..
        "or the ECS/EKS link-local address"):format(url))
    end
  end
  local headers = {Accept = "application/json"}
  local token_file = ctx.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
  local token = ctx.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
  if token_file then
    local t, err = context.read_all(token_file)
    if not t then
      return failed(("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s"):format(token_file, err))
    end
    token = t:gsub("%s+$", "")
  end
  if token then
    ctx:secret(token)
    if token:find("[\r\n]") then return failed("the container authorization token contains a line break") end
    headers.Authorization = token
  end
  local what = "container credentials endpoint " .. url
  return ctx:request({method = "GET", url = url, headers = headers, timeout = 2000,
    connectTimeout = 1000, proxy = ""}, 3):next(function(res)
    local creds, err = remote_json(ctx, res, what)
    if not creds then raise(err) end
    return creds
  end, function(err)
    raise(what .. ": " .. message_of(err))
  end)
end

local function imds_endpoint(ctx)
  local url = ctx.getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT")
  local p = ctx:shared():get()
  url = url or (p and p.ec2_metadata_service_endpoint)
  if not url then
    local mode = ctx.getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") or (p and p.ec2_metadata_service_endpoint_mode)
    url = (mode and mode:lower() == "ipv6") and IMDS_IPV6 or IMDS_DEFAULT
  end
  return (url:gsub("/+$", ""))
end

function remote.imds(ctx)
  local disabled = ctx.getenv("AWS_EC2_METADATA_DISABLED")
  if disabled and disabled:lower() == "true" then return nil, "AWS_EC2_METADATA_DISABLED=true" end
  local base = imds_endpoint(ctx)
  local state = ctx.chain.imds -- the session token outlives one fetch: keep it on the chain
  local now = ctx.chain:now()
  local function req(method, path, headers)
    return ctx:request({method = method, url = base .. path, headers = headers,
      timeout = 1000, connectTimeout = 1000, proxy = ""}, 2)
  end
  local function token()
    -- false remembers that this instance answers IMDSv1 only
    if state.token ~= nil and now < state.expires then return Promise.resolve(state.token) end
    return req("PUT", "/latest/api/token", {["X-aws-ec2-metadata-token-ttl-seconds"] = tostring(IMDS_TOKEN_TTL)})
      :next(function(res)
        if res.statusCode == 200 and res.body ~= "" then
          state.token, state.expires = res.body, now + IMDS_TOKEN_TTL - 60
          return res.body
        end
        local v1_off = (ctx.getenv("AWS_EC2_METADATA_V1_DISABLED") or ""):lower() == "true"
        if (res.statusCode == 403 or res.statusCode == 404 or res.statusCode == 405) and not v1_off then
          state.token, state.expires = false, now + 300
          return false
        end
        raise(("token request answered HTTP %d"):format(res.statusCode))
      end)
  end
  local function get(path, retried)
    return token():next(function(tok)
      local headers = tok and {["X-aws-ec2-metadata-token"] = tok} or {}
      return req("GET", path, headers):next(function(res)
        if res.statusCode == 401 and not retried then -- the token expired early, or v1 was refused
          state.token = nil
          return get(path, true)
        end
        return res
      end)
    end)
  end
  local prefix = "/latest/meta-data/iam/security-credentials/"
  return get(prefix):next(function(res)
    if res.statusCode == 404 then
      raise("the instance has no IAM role (" .. prefix .. " answered 404)")
    elseif res.statusCode ~= 200 then
      raise(("%s answered HTTP %d"):format(prefix, res.statusCode))
    end
    local role = (res.body or ""):match("^%s*([^\r\n]-)%s*$") or ""
    role = role:match("^[^\r\n]+") or ""
    if role == "" then raise("the instance lists no IAM role") end
    return get(prefix .. role):next(function(res2)
      local creds, err = remote_json(ctx, res2, prefix .. role)
      if not creds then raise(err) end
      return creds
    end)
  end):next(nil, function(err)
    raise(base .. ": " .. message_of(err))
  end)
end

return remote
