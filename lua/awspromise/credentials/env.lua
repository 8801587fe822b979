-- Credentials from environment variables: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
-- AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION. A provider in the chain, and a profile's
-- `credential_source = Environment`.
local Promise = require "awspromise.promise"
local context = require "awspromise.credentials.context"

local failed = context.failed

local env = {}

function env.resolve(ctx)
  local id = ctx.getenv("AWS_ACCESS_KEY_ID")
  local secret = ctx:secret(ctx.getenv("AWS_SECRET_ACCESS_KEY"))
  local token = ctx:secret(ctx.getenv("AWS_SESSION_TOKEN"))
  if not id and not secret then return nil, "AWS_ACCESS_KEY_ID not set" end
  if not id then return failed("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not") end
  if not secret then return failed("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not") end
  local expire = ctx.getenv("AWS_CREDENTIAL_EXPIRATION")
  return Promise.resolve({accessKeyId = id, secretAccessKey = secret, sessionToken = token,
    expireTime = expire and context.parse_time(expire) or nil})
end

return env
