-- The credential classes that ask STS: TemporaryCredentials and ChainableTemporaryCredentials
-- (GetSessionToken, or AssumeRole when params.RoleArn is set, signed with master credentials;
-- MFA codes through tokenCodeFn), WebIdentityCredentials and SAMLCredentials (unsigned).
-- Parameters are STS's own, flat (RoleArn, RoleSessionName, DurationSeconds, SerialNumber, ...).
local Promise = require "awspromise.promise"
local classes = require "awspromise.credentials.classes"
local sts = require "awspromise.credentials.sts"

local make_error = Promise.make_error

-- The chain options of a class: STS's endpoint and region from stsConfig / clientConfig.
local function sts_options(config)
  config = config or {}
  return {stsEndpoint = config.endpoint, region = config.region, env = config.env,
    httpOptions = config.httpOptions, tokenCodeFn = config.tokenCodeFn}
end

-- Flat STS parameters; a nested value (Tags, PolicyArns) cannot travel this way.
local function flat_params(params, defaults)
  local out = {}
  for k, v in pairs(defaults or {}) do out[k] = v end
  for k, v in pairs(params or {}) do
    if type(v) == "table" then
      error(make_error("CredentialsError", ("STS parameter %s: only flat (string or number) parameters are supported")
        :format(k)), 0)
    end
    out[k] = v
  end
  return out
end

local function master_credentials(master)
  if master == nil then return require("awspromise.credentials").default():get() end
  if classes.is_credentials(master) then return master:getPromise() end
  return Promise.resolve(master)
end

-- AssumeRole or GetSessionToken with the master credentials, asking for an MFA code first when
-- params name a SerialNumber without a TokenCode.
local function temporary(params, master)
  return function(ctx)
    local session = {RoleSessionName = "temporary-credentials-lua-" .. os.time()}
    local action = params.RoleArn and "AssumeRole" or "GetSessionToken"
    local args = flat_params(params, action == "AssumeRole" and session or nil)
    local code = Promise.resolve(args.TokenCode)
    if args.SerialNumber and not args.TokenCode then code = sts.token_code(ctx, args.SerialNumber, action) end
    return code:next(function(token)
      args.TokenCode = token
      return master_credentials(master)
    end):next(function(source)
      ctx:secret(source.secretAccessKey)
      ctx:secret(source.sessionToken)
      return sts.call(ctx, action, args, source, ctx:region())
    end)
  end
end

classes.provider("TemporaryCredentials", function(params, master) return temporary(params or {}, master) end,
  function() return {} end)

classes.provider("ChainableTemporaryCredentials", function(options)
  options = options or {}
  return temporary(options.params or {}, options.masterCredentials)
end, function(options)
  local opts = sts_options(options.stsConfig)
  opts.tokenCodeFn = options.tokenCodeFn
  return opts
end)

local function unsigned(action, defaults)
  return function(params)
    return function(ctx) return sts.call(ctx, action, flat_params(params, defaults), nil, ctx:region()) end
  end
end

classes.provider("WebIdentityCredentials",
  unsigned("AssumeRoleWithWebIdentity", {RoleSessionName = "web-identity"}),
  function(_, client_config) return sts_options(client_config) end)

classes.provider("SAMLCredentials", unsigned("AssumeRoleWithSAML"),
  function(_, client_config) return sts_options(client_config) end)

return classes
