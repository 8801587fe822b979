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
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local profile = require "awspromise.profile"

local make_error = Promise.make_error
local credentials = {REFRESH_WINDOW = 300}

local IMDS_DEFAULT = "http://169.254.169.254"
local IMDS_IPV6 = "http://[fd00:ec2::254]"
local IMDS_TOKEN_TTL = 21600
local CONTAINER_DEFAULT = "http://169.254.170.2"

---------------------------------------------------------------- small helpers

-- Epoch seconds of an ISO 8601 / RFC 3339 time ("2026-01-02T03:04:05Z", fractions and offsets
-- allowed), or nil and a reason.
function credentials.parse_time(s)
  if type(s) == "number" then return s end
  if type(s) ~= "string" then return nil, "not a string" end
  local y, mo, d, h, mi, sec, rest =
    s:match("^(%d%d%d%d)-(%d%d)-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return nil, "not an ISO 8601 time" end
  rest = rest:gsub("^[.,]%d+", "")
  local offset = 0
  if rest ~= "" and rest ~= "Z" and rest ~= "z" then
    local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil, "bad time zone in ISO 8601 time" end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "+" and 1 or -1)
  end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > 31 then return nil, "bad date in ISO 8601 time" end
  -- Days since 1970-01-01 in the proleptic Gregorian calendar (civil-from-days, inverted).
  local yy = mo <= 2 and y - 1 or y
  local era = yy // 400
  local yoe = yy - era * 400
  local doy = (153 * (mo + (mo > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec) - offset
end

local function redact(text, secrets)
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

local function message_of(err)
  if type(err) == "table" and err.message then
    if err.code and err.code ~= "CredentialsError" then return err.code .. ": " .. tostring(err.message) end
    return tostring(err.message)
  end
  return tostring(err)
end

-- A failure of a provider that was configured: ends the chain.
local function failed(message)
  return Promise.reject(make_error("CredentialsError", message))
end

local function form_encode(s)
  return (tostring(s):gsub("[^A-Za-z0-9%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

local function read_all(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, tostring(err) end
  local s = f:read("a")
  f:close()
  return s
end

-- Looks up a path of element names below an xml_decode tree; returns the element.
local function xml_find(node, ...)
  for _, name in ipairs {...} do
    local found
    for _, child in ipairs(node) do
      if type(child) == "table" and child.name == name then found = child break end
    end
    if not found then return nil end
    node = found
  end
  return node
end

local function xml_text(node, ...)
  local el = xml_find(node, ...)
  if not el then return nil end
  local parts = {}
  for _, child in ipairs(el) do
    if type(child) == "string" then parts[#parts + 1] = child end
  end
  return table.concat(parts)
end

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
  local expire = raw.expireTime
  if expire ~= nil then
    local t = credentials.parse_time(expire)
    if not t then return nil, "expireTime is not a time" end
    expire = t
  end
  return setmetatable({accessKeyId = id, secretAccessKey = secret, sessionToken = token,
    expireTime = expire, source = raw.source or source}, Credentials)
end

---------------------------------------------------------------- resolution context

local Context = {}
Context.__index = Context

local function new_context(chain)
  local opts = chain.opts
  local ctx = setmetatable({
    opts = opts, chain = chain, secrets = {},
    getenv = profile.getenv(opts),
    http = opts.http or core.http,
    spawn = opts.spawn or core.spawn,
  }, Context)
  return ctx
end

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
    if not ok then return Promise.reject(make_error("CredentialsError", message_of(p))) end
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

---------------------------------------------------------------- STS (query protocol)

local function sts_endpoint(ctx, region)
  local ignore = (ctx.getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") or ""):lower() == "true"
  local url = not ignore and (ctx.getenv("AWS_ENDPOINT_URL_STS") or ctx.getenv("AWS_ENDPOINT_URL"))
  if not url then
    url = region and ("https://sts.%s.amazonaws.com"):format(region) or "https://sts.amazonaws.com"
    if region and region:match("^cn%-") then url = url .. ".cn" end
  end
  if not url:match("^https?://[^/]+/") then url = url .. "/" end
  return url
end

-- Calls AssumeRole (signed with `source`) or AssumeRoleWithWebIdentity (unsigned, source nil).
local function sts_call(ctx, action, params, source, region)
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys)
  local body = {"Action=" .. action, "Version=2011-06-15"}
  for _, k in ipairs(keys) do body[#body + 1] = k .. "=" .. form_encode(params[k]) end
  local http_opts = ctx.opts.httpOptions or {}
  local req = {
    method = "POST", url = sts_endpoint(ctx, region), body = table.concat(body, "&"),
    headers = {["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"},
    timeout = http_opts.timeout or 10000, connectTimeout = http_opts.connectTimeout or 5000,
  }
  if source then
    req.sign = {accessKeyId = source.accessKeyId, secretAccessKey = source.secretAccessKey,
      sessionToken = source.sessionToken, region = region or "us-east-1", service = "sts"}
  end
  local what = "STS " .. action .. " (" .. req.url .. ")"
  return ctx:request(req):next(function(res)
    local doc = core.xml_decode_safe(res.body or "")
    if res.statusCode ~= 200 then
      local code = doc and xml_text(doc, "Error", "Code")
      local msg = doc and xml_text(doc, "Error", "Message")
      error(make_error("CredentialsError", ("%s failed: HTTP %d%s%s"):format(what, res.statusCode,
        code and (" " .. code) or "", msg and (": " .. msg) or ""), {stsCode = code}), 0)
    end
    local c = doc and xml_find(doc, action .. "Result", "Credentials")
    local id = c and xml_text(c, "AccessKeyId")
    local secret = c and ctx:secret(xml_text(c, "SecretAccessKey"))
    local token = c and ctx:secret(xml_text(c, "SessionToken"))
    local expiration = c and xml_text(c, "Expiration")
    if not (id and secret and token) then
      error(make_error("CredentialsError", what .. " answered without credentials"), 0)
    end
    local expire = expiration and credentials.parse_time(expiration)
    return {accessKeyId = id, secretAccessKey = secret, sessionToken = token, expireTime = expire}
  end, function(err)
    error(make_error("CredentialsError", what .. " failed: " .. message_of(err)), 0)
  end)
end

local function session_name(ctx, given)
  if given and given ~= "" then return given end
  return ("awspromise-%d"):format(ctx.opts.now and ctx.opts.now() or os.time())
end

local function web_identity(ctx, role_arn, token_file, name, region)
  local token, err = read_all(token_file)
  if not token then
    return failed(("cannot read the web identity token file %s: %s"):format(token_file, err))
  end
  token = token:gsub("%s+$", "")
  ctx:secret(token)
  return sts_call(ctx, "AssumeRoleWithWebIdentity",
    {RoleArn = role_arn, RoleSessionName = session_name(ctx, name), WebIdentityToken = token}, nil, region)
end

---------------------------------------------------------------- remote endpoints (container, IMDS)

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
  local expire = doc.Expiration and credentials.parse_time(doc.Expiration)
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

local function container(ctx)
  local rel = ctx.getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
  local full = ctx.getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
  if not rel and not full then
    return nil, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set"
  end
  local url
  if rel then
    url = (ctx.opts.containerEndpoint or CONTAINER_DEFAULT):gsub("/$", "") .. (rel:sub(1, 1) == "/" and rel or "/" .. rel)
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
    local t, err = read_all(token_file)
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
    if not creds then error(make_error("CredentialsError", err), 0) end
    return creds
  end, function(err)
    error(make_error("CredentialsError", what .. ": " .. message_of(err)), 0)
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

local function imds(ctx)
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
        error(make_error("CredentialsError", ("token request answered HTTP %d"):format(res.statusCode)), 0)
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
      error(make_error("CredentialsError", "the instance has no IAM role (" .. prefix .. " answered 404)"), 0)
    elseif res.statusCode ~= 200 then
      error(make_error("CredentialsError", ("%s answered HTTP %d"):format(prefix, res.statusCode)), 0)
    end
    local role = (res.body or ""):match("^%s*([^\r\n]-)%s*$") or ""
    role = role:match("^[^\r\n]+") or ""
    if role == "" then error(make_error("CredentialsError", "the instance lists no IAM role"), 0) end
    return get(prefix .. role):next(function(res2)
      local creds, err = remote_json(ctx, res2, prefix .. role)
      if not creds then error(make_error("CredentialsError", err), 0) end
      return creds
    end)
  end):next(nil, function(err)
    error(make_error("CredentialsError", base .. ": " .. message_of(err)), 0)
  end)
end

---------------------------------------------------------------- shared files

local function static_of(p, name)
  local id, secret = p.aws_access_key_id, p.aws_secret_access_key
  if not id and not secret then return nil end
  if not id or not secret or id == "" or secret == "" then
    return nil, ("profile '%s' has only one of aws_access_key_id and aws_secret_access_key"):format(name)
  end
  return {accessKeyId = id, secretAccessKey = secret,
    sessionToken = p.aws_session_token ~= "" and p.aws_session_token or nil}
end

local function process_credentials(ctx, command, name)
  local ok, p = pcall(ctx.spawn, command, {timeout = ctx.opts.processTimeout or 60000})
  if not ok then return failed(("credential_process of profile '%s': %s"):format(name, message_of(p))) end
  local what = ("credential_process of profile '%s'"):format(name)
  return p:next(function(r)
    if r.status ~= 0 then
      local err = (r.stderr or ""):gsub("%s+$", "")
      if #err > 300 then err = err:sub(1, 300) .. "..." end
      error(make_error("CredentialsError", ("%s exited with status %d%s"):format(what, r.status,
        err ~= "" and (": " .. err) or "")), 0)
    end
    local doc, jerr = core.json_decode_safe(r.stdout or "")
    if type(doc) ~= "table" then
      error(make_error("CredentialsError", what .. " printed something that is not a JSON object" ..
        (jerr and (" (" .. jerr .. ")") or "")), 0)
    end
    ctx:secret(doc.SecretAccessKey)
    ctx:secret(doc.SessionToken)
    if doc.Version ~= 1 then
      error(make_error("CredentialsError", ("%s printed Version %s; only Version 1 is supported"):format(
        what, tostring(doc.Version))), 0)
    end
    if type(doc.AccessKeyId) ~= "string" or type(doc.SecretAccessKey) ~= "string" then
      error(make_error("CredentialsError", what .. " printed no AccessKeyId/SecretAccessKey"), 0)
    end
    local expire
    if doc.Expiration ~= nil then
      expire = credentials.parse_time(doc.Expiration)
      if not expire then error(make_error("CredentialsError", what .. " printed an Expiration that is not ISO 8601"), 0) end
    end
    return {accessKeyId = doc.AccessKeyId, secretAccessKey = doc.SecretAccessKey,
      sessionToken = type(doc.SessionToken) == "string" and doc.SessionToken or nil, expireTime = expire}
  end, function(err)
    if type(err) == "table" and err.code == "CredentialsError" then error(err, 0) end
    error(make_error("CredentialsError", what .. ": " .. message_of(err)), 0)
  end)
end

local environment -- defined below, used as a credential_source

local function credential_source(ctx, source)
  local s = source:lower()
  local p, reason
  if s == "environment" then
    p, reason = environment(ctx)
  elseif s == "ec2instancemetadata" then
    p, reason = imds(ctx)
  elseif s == "ecscontainer" then
    p, reason = container(ctx)
  else
    return failed(("credential_source %s is not one of Environment, Ec2InstanceMetadata, EcsContainer"):format(source))
  end
  if not p then return failed(("credential_source %s: %s"):format(source, reason)) end
  return p
end

local resolve_profile

local function assume_role(ctx, p, name, source_promise)
  if p.mfa_serial then
    return failed(("profile '%s' sets mfa_serial: awspromise cannot prompt for an MFA code"):format(name))
  end
  local params = {RoleArn = p.role_arn, RoleSessionName = session_name(ctx, p.role_session_name)}
  if p.external_id then params.ExternalId = p.external_id end
  if p.duration_seconds then params.DurationSeconds = p.duration_seconds end
  local region = ctx:region(p)
  return source_promise:next(function(source)
    ctx:secret(source.secretAccessKey)
    ctx:secret(source.sessionToken)
    return sts_call(ctx, "AssumeRole", params, source, region)
  end)
end

-- Resolves profile `name`; `chain` lists the profiles already on the way (cycle detection);
-- `first` is the profile the user selected (a source profile prefers its static keys).
function resolve_profile(ctx, name, chain, first)
  local shared = ctx:shared()
  local p = shared:get(name)
  if not p then
    return failed(("source_profile '%s' (from profile '%s') is not in %s"):format(name, chain[#chain], shared:describe()))
  end
  for _, seen in ipairs(chain) do
    if seen == name then
      return failed(("source_profile cycle: %s -> %s"):format(table.concat(chain, " -> "), name))
    end
  end
  chain[#chain + 1] = name
  ctx:secret(p.aws_secret_access_key)
  ctx:secret(p.aws_session_token)
  local static, serr = static_of(p, name)
  if serr then return failed(serr) end
  if static and not first then return Promise.resolve(static) end
  if p.role_arn then
    if p.web_identity_token_file then
      return web_identity(ctx, p.role_arn, p.web_identity_token_file, p.role_session_name, ctx:region(p))
    end
    if p.source_profile and p.credential_source then
      return failed(("profile '%s' sets both source_profile and credential_source"):format(name))
    end
    if p.source_profile then
      local source
      if p.source_profile == name and static then -- a profile may assume a role with its own keys
        source = Promise.resolve(static)
      else
        source = resolve_profile(ctx, p.source_profile, chain, false)
      end
      return assume_role(ctx, p, name, source)
    end
    if p.credential_source then
      return assume_role(ctx, p, name, credential_source(ctx, p.credential_source))
    end
    return failed(("profile '%s' sets role_arn without source_profile, credential_source or " ..
      "web_identity_token_file"):format(name))
  end
  if static then return Promise.resolve(static) end
  if p.credential_process and p.credential_process ~= "" then
    return process_credentials(ctx, p.credential_process, name)
  end
  if p.sso_session or p.sso_start_url then
    return failed(("profile '%s' uses IAM Identity Center (SSO), which awspromise does not support"):format(name))
  end
  if first then
    return nil, ("profile '%s' has no credentials (no aws_access_key_id, role_arn, credential_process " ..
      "or web_identity_token_file)"):format(name)
  end
  return failed(("source profile '%s' has no credentials"):format(name))
end

local function shared_files(ctx)
  local shared = ctx:shared()
  if not shared:get() then
    local msg = ("no profile '%s' in %s"):format(shared.name, shared:describe())
    if shared.nameSource then return failed(msg .. " (selected by " .. shared.nameSource .. ")") end
    return nil, msg
  end
  return resolve_profile(ctx, shared.name, {}, true)
end

---------------------------------------------------------------- environment, web identity

function environment(ctx)
  local id = ctx.getenv("AWS_ACCESS_KEY_ID")
  local secret = ctx:secret(ctx.getenv("AWS_SECRET_ACCESS_KEY"))
  local token = ctx:secret(ctx.getenv("AWS_SESSION_TOKEN"))
  if not id and not secret then return nil, "AWS_ACCESS_KEY_ID not set" end
  if not id then return failed("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not") end
  if not secret then return failed("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not") end
  local expire = ctx.getenv("AWS_CREDENTIAL_EXPIRATION")
  return Promise.resolve({accessKeyId = id, secretAccessKey = secret, sessionToken = token,
    expireTime = expire and credentials.parse_time(expire) or nil})
end

local function web_identity_env(ctx)
  local file = ctx.getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
  local role = ctx.getenv("AWS_ROLE_ARN")
  if not file and not role then return nil, "AWS_WEB_IDENTITY_TOKEN_FILE not set" end
  if not file then return nil, "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not" end
  if not role then return nil, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not" end
  return web_identity(ctx, role, file, ctx.getenv("AWS_ROLE_SESSION_NAME"), ctx:region())
end

---------------------------------------------------------------- explicit credentials

local function explicit_provider(value)
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
  {name = "environment", resolve = environment},
  {name = "shared files", resolve = shared_files},
  {name = "web identity", resolve = web_identity_env},
  {name = "container", resolve = container},
  {name = "EC2 instance metadata", resolve = imds},
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
    if type(opts.credentials) == "table" and opts.credentials.accessKeyId ~= nil then
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
end

-- The cached credentials without any fetch (nil when none or when they need a refresh).
function Chain:peek()
  if fresh(self, self.cached) then return self.cached end
  return nil
end

-- Runs the providers in order; always returns a new promise. Use get() to benefit from caching.
function Chain:fetch()
  local ctx = new_context(self)
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

credentials.redact = redact
credentials.normalize = normalize

return credentials
