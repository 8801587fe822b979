-- IAM Identity Center (SSO) credentials: a profile with sso_account_id and sso_role_name, and
-- either sso_start_url + sso_region (legacy keys) or sso_session naming an [sso-session x]
-- section. The access token comes from the cache `aws sso login` writes,
-- ~/.aws/sso/cache/<sha1 of the session name or start URL>.json; the portal's
-- GetRoleCredentials turns it into credentials. An expired token is an error that says to log
-- in again (awspromise does not refresh SSO tokens itself).
local core = require "awspromise.core"
local classes = require "awspromise.credentials.classes"
local context = require "awspromise.credentials.context"

local raise, message_of, failed = context.raise, context.message_of, context.failed
local sso = {}

local function escape(s)
  return (tostring(s):gsub("[^%w%-_%.~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- The start URL, region and token cache key of profile `p`; nil and why when incomplete.
local function session_of(ctx, p, name)
  if p.sso_session then
    local section = ctx:shared().sections["sso-session " .. p.sso_session]
    if not section then return nil, ("profile '%s' names sso_session '%s', which has no [sso-session %s] section")
      :format(name, p.sso_session, p.sso_session) end
    if not section.sso_start_url or not section.sso_region then
      return nil, ("[sso-session %s] needs sso_start_url and sso_region"):format(p.sso_session)
    end
    return {startUrl = section.sso_start_url, region = section.sso_region, cacheKey = p.sso_session}
  end
  if not p.sso_start_url or not p.sso_region then
    return nil, ("profile '%s' needs sso_start_url and sso_region (or sso_session)"):format(name)
  end
  return {startUrl = p.sso_start_url, region = p.sso_region, cacheKey = p.sso_start_url}
end

local function cached_token(ctx, session)
  local home = ctx.getenv("HOME") or ctx.getenv("USERPROFILE")
  if not home then return nil, "HOME is not set: cannot find ~/.aws/sso/cache" end
  local path = ("%s/.aws/sso/cache/%s.json"):format(home, core.crypto.sha1(session.cacheKey, "hex"))
  local text = context.read_all(path)
  local doc = text and core.json_decode_safe(text)
  if type(doc) ~= "table" or type(doc.accessToken) ~= "string" then
    return nil, ("no SSO token cached in %s for %s: run `aws sso login`"):format(path, session.startUrl)
  end
  local expires = context.parse_time(doc.expiresAt)
  if not expires or expires <= ctx.chain:now() then
    return nil, ("the SSO session for %s has expired (%s): run `aws sso login` again")
      :format(session.startUrl, tostring(doc.expiresAt))
  end
  return ctx:secret(doc.accessToken)
end

-- Credentials of SSO profile `p` (named `name`): a promise, or nil and why when `p` is no SSO profile.
function sso.resolve_profile(ctx, p, name, endpoint)
  if not (p.sso_session or p.sso_start_url or p.sso_account_id) then
    return nil, ("profile '%s' has no sso_* keys"):format(name)
  end
  if not p.sso_account_id or not p.sso_role_name then
    return failed(("profile '%s' needs sso_account_id and sso_role_name"):format(name))
  end
  local session, why = session_of(ctx, p, name)
  if not session then return failed(why) end
  local token, err = cached_token(ctx, session)
  if not token then return failed(err) end
  local base = endpoint or ctx.getenv("AWS_ENDPOINT_URL_SSO") or ("https://portal.sso.%s.amazonaws.com"):format(session.region)
  local url = ("%s/federation/credentials?account_id=%s&role_name=%s"):format(base:gsub("/+$", ""),
    escape(p.sso_account_id), escape(p.sso_role_name))
  local what = "SSO GetRoleCredentials (" .. url .. ")"
  return ctx:request({method = "GET", url = url, headers = {["x-amz-sso_bearer_token"] = token},
    timeout = 10000, connectTimeout = 5000}):next(function(res)
    local doc = core.json_decode_safe(res.body or "")
    local c = type(doc) == "table" and doc.roleCredentials
    if res.statusCode ~= 200 or type(c) ~= "table" then
      raise(("%s answered HTTP %d%s"):format(what, res.statusCode,
        type(doc) == "table" and doc.message and (": " .. tostring(doc.message)) or ""))
    end
    ctx:secret(c.secretAccessKey)
    ctx:secret(c.sessionToken)
    return {accessKeyId = c.accessKeyId, secretAccessKey = c.secretAccessKey, sessionToken = c.sessionToken,
      expireTime = tonumber(c.expiration) and tonumber(c.expiration) / 1000}
  end, function(e)
    raise(what .. " failed: " .. message_of(e))
  end)
end

-- AWS.SsoCredentials({profile =, filename =, endpoint =}): the selected profile's SSO credentials.
classes.provider("SsoCredentials", function(options)
  local endpoint = type(options) == "table" and options.endpoint or nil
  return function(ctx)
    local shared = ctx:shared()
    local p = shared:get()
    if not p then return nil, ("no profile '%s'"):format(shared.name) end
    return sso.resolve_profile(ctx, p, shared.name, endpoint)
  end
end, function(options)
  return {profile = options.profile, credentialsFile = options.filename, configFile = options.configFile}
end)

return sso
