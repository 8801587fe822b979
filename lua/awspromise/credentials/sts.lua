-- Credentials from AWS STS (query protocol, answered in XML): AssumeRole signed with source
-- credentials, and AssumeRoleWithWebIdentity (unsigned) for a web identity token file, which
-- is also a provider of its own through AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN.
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local context = require "awspromise.credentials.context"

local raise, message_of = context.raise, context.message_of
local make_error = Promise.make_error
local sts = {}

local function form_encode(s)
  return (tostring(s):gsub("[^A-Za-z0-9%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
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

local function endpoint(ctx, region)
  if ctx.opts.stsEndpoint then return (ctx.opts.stsEndpoint:gsub("/*$", "/")) end
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
function sts.call(ctx, action, params, source, region)
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys)
  local body = {"Action=" .. action, "Version=2011-06-15"}
  for _, k in ipairs(keys) do body[#body + 1] = k .. "=" .. form_encode(params[k]) end
  local http_opts = ctx.opts.httpOptions or {}
  local req = {
    method = "POST", url = endpoint(ctx, region), body = table.concat(body, "&"),
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
      raise(("%s failed: HTTP %d%s%s"):format(what, res.statusCode,
        code and (" " .. code) or "", msg and (": " .. msg) or ""), {stsCode = code})
    end
    local c = doc and xml_find(doc, action .. "Result", "Credentials")
    local id = c and xml_text(c, "AccessKeyId")
    local secret = c and ctx:secret(xml_text(c, "SecretAccessKey"))
    local token = c and ctx:secret(xml_text(c, "SessionToken"))
    local expiration = c and xml_text(c, "Expiration")
    if not (id and secret and token) then
      raise(what .. " answered without credentials")
    end
    local expire = expiration and context.parse_time(expiration)
    return {accessKeyId = id, secretAccessKey = secret, sessionToken = token, expireTime = expire}
  end, function(err)
    raise(what .. " failed: " .. message_of(err))
  end)
end

local function session_name(ctx, given)
  if given and given ~= "" then return given end
  return ("awspromise-%d"):format(ctx.opts.now and ctx.opts.now() or os.time())
end

-- A promise of the MFA code for `serial` from opts.tokenCodeFn(serial, callback(err, code)), as
-- JavaScript v2 asks for it.
function sts.token_code(ctx, serial, what)
  local ask = ctx.opts.tokenCodeFn
  if not ask then
    return context.failed(("%s needs an MFA code for %s: give tokenCodeFn(serial, callback)"):format(what, serial))
  end
  return Promise.new(function(fulfil, reject)
    ask(serial, function(err, code)
      if err ~= nil then return reject(err) end
      if type(code) ~= "string" or code == "" then
        return reject(make_error("CredentialsError", "tokenCodeFn gave no MFA code for " .. serial))
      end
      fulfil(code)
    end)
  end)
end

-- The role of profile `p` (named `name`) assumed with the credentials `source_promise` brings.
function sts.assume_role(ctx, p, name, source_promise)
  local params = {RoleArn = p.role_arn, RoleSessionName = session_name(ctx, p.role_session_name)}
  if p.external_id then params.ExternalId = p.external_id end
  if p.duration_seconds then params.DurationSeconds = p.duration_seconds end
  local region = ctx:region(p)
  local code = p.mfa_serial and sts.token_code(ctx, p.mfa_serial, ("profile '%s'"):format(name))
  return source_promise:next(function(source)
    ctx:secret(source.secretAccessKey)
    ctx:secret(source.sessionToken)
    if not code then return sts.call(ctx, "AssumeRole", params, source, region) end
    return code:next(function(token)
      params.SerialNumber, params.TokenCode = p.mfa_serial, token
      return sts.call(ctx, "AssumeRole", params, source, region)
    end)
  end)
end

function sts.web_identity(ctx, role_arn, token_file, name, region)
  local token, err = context.read_all(token_file)
  if not token then
    return context.failed(("cannot read the web identity token file %s: %s"):format(token_file, err))
  end
  token = token:gsub("%s+$", "")
  ctx:secret(token)
  return sts.call(ctx, "AssumeRoleWithWebIdentity",
    {RoleArn = role_arn, RoleSessionName = session_name(ctx, name), WebIdentityToken = token}, nil, region)
end

-- The chain's "web identity" provider.
function sts.resolve_web_identity_env(ctx)
  local file = ctx.getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
  local role = ctx.getenv("AWS_ROLE_ARN")
  if not file and not role then return nil, "AWS_WEB_IDENTITY_TOKEN_FILE not set" end
  if not file then return nil, "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not" end
  if not role then return nil, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not" end
  return sts.web_identity(ctx, role, file, ctx.getenv("AWS_ROLE_SESSION_NAME"), ctx:region())
end

return sts
