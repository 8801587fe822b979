-- CognitoIdentityCredentials: an identity pool's credentials. GetId (unless params.IdentityId),
-- then GetCredentialsForIdentity; with params.RoleArn, GetOpenIdToken and STS
-- AssumeRoleWithWebIdentity instead (the "basic" flow). Cognito calls are unsigned JSON 1.1.
local core = require "awspromise.core"
local classes = require "awspromise.credentials.classes"
local context = require "awspromise.credentials.context"
local sts = require "awspromise.credentials.sts"

local raise, message_of = context.raise, context.message_of

local function cognito_call(ctx, endpoint, target, body)
  local req = {method = "POST", url = endpoint, body = core.json_encode(body),
    headers = {["Content-Type"] = "application/x-amz-json-1.1",
      ["X-Amz-Target"] = "AWSCognitoIdentityService." .. target},
    timeout = 10000, connectTimeout = 5000}
  local what = "Cognito " .. target .. " (" .. endpoint .. ")"
  return ctx:request(req):next(function(res)
    local doc = core.json_decode_safe(res.body or "")
    if res.statusCode ~= 200 or type(doc) ~= "table" then
      local code = type(doc) == "table" and tostring(doc.__type or ""):match("([^#]*)$") or ""
      local msg = type(doc) == "table" and (doc.message or doc.Message) or ""
      raise(("%s failed: HTTP %d %s%s"):format(what, res.statusCode, code, msg ~= "" and (": " .. msg) or ""),
        {cognitoCode = code})
    end
    return doc
  end, function(err)
    raise(what .. " failed: " .. message_of(err))
  end)
end

local function identity_flow(self, params, client_config)
  return function(ctx)
    local region = params.region or client_config.region or ctx:region()
    local endpoint = client_config.endpoint or ("https://cognito-identity.%s.amazonaws.com/"):format(region)
    local logins = params.Logins
    local id_promise
    if self.identityId or params.IdentityId then
      id_promise = require("awspromise.promise").resolve(self.identityId or params.IdentityId)
    else
      id_promise = cognito_call(ctx, endpoint, "GetId",
        {IdentityPoolId = params.IdentityPoolId, AccountId = params.AccountId, Logins = logins})
        :next(function(doc) return doc.IdentityId end)
    end
    return id_promise:next(function(identity_id)
      self.identityId = identity_id
      if params.RoleArn then
        return cognito_call(ctx, endpoint, "GetOpenIdToken", {IdentityId = identity_id, Logins = logins})
          :next(function(doc)
            return sts.call(ctx, "AssumeRoleWithWebIdentity", {RoleArn = params.RoleArn,
              WebIdentityToken = ctx:secret(doc.Token), RoleSessionName = "web-identity"}, nil, region)
          end)
      end
      return cognito_call(ctx, endpoint, "GetCredentialsForIdentity",
        {IdentityId = identity_id, Logins = logins, CustomRoleArn = params.CustomRoleArn}):next(function(doc)
        local c = type(doc.Credentials) == "table" and doc.Credentials or {}
        ctx:secret(c.SecretKey)
        ctx:secret(c.SessionToken)
        return {accessKeyId = c.AccessKeyId, secretAccessKey = c.SecretKey, sessionToken = c.SessionToken,
          expireTime = tonumber(c.Expiration)}
      end)
    end)
  end
end

local Cognito = classes.class("CognitoIdentityCredentials", classes.Credentials, function(self, params, client_config)
  params = params or {}
  client_config = client_config or {}
  self.params = params
  self.identityId = params.IdentityId
  self.chain = require("awspromise.credentials").chain {env = client_config.env, region = client_config.region,
    stsEndpoint = client_config.stsEndpoint, httpOptions = client_config.httpOptions,
    providers = {{name = "CognitoIdentityCredentials", resolve = identity_flow(self, params, client_config)}}}
end)

function Cognito:load() return self.chain:fetch() end

-- Forgets the identity id (a new GetId on the next refresh), as JavaScript's clearCachedId.
function Cognito:clearCachedId()
  self.identityId = nil
end

return classes
