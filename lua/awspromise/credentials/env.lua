-- Credentials from environment variables: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
-- AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION. A provider in the chain, and a profile's
-- `credential_source = Environment`.
local Promise = require "awspromise.promise"
local context = require "awspromise.credentials.context"

local failed = context.failed

local env = {}

-- The provider for variables named PREFIX_ACCESS_KEY_ID, ... (JavaScript's
-- EnvironmentCredentials(prefix); the chain uses "AWS").
function env.with_prefix(prefix, ctx)
  local id = ctx.getenv(prefix .. "_ACCESS_KEY_ID")
  local secret = ctx:secret(ctx.getenv(prefix .. "_SECRET_ACCESS_KEY"))
  local token = ctx:secret(ctx.getenv(prefix .. "_SESSION_TOKEN"))
  if not id and not secret then return nil, prefix .. "_ACCESS_KEY_ID not set" end
  if not id then return failed(("%s_SECRET_ACCESS_KEY is set but %s_ACCESS_KEY_ID is not"):format(prefix, prefix)) end
  if not secret then return failed(("%s_ACCESS_KEY_ID is set but %s_SECRET_ACCESS_KEY is not"):format(prefix, prefix)) end
  local expire = ctx.getenv(prefix .. "_CREDENTIAL_EXPIRATION")
  return Promise.resolve({accessKeyId = id, secretAccessKey = secret, sessionToken = token,
    expireTime = expire and context.parse_time(expire) or nil})
end

function env.resolve(ctx)
  return env.with_prefix("AWS", ctx)
end

return env
