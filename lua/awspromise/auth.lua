-- How a request proves who sends it: SigV4 (the default), SigV2 (SimpleDB's model asks for
-- it), a bearer token (CodeCatalyst's httpBearerAuth) or nothing. The choice follows
-- JavaScript v2's getSignerClass: the client's signatureVersion, else the operation's authtype,
-- else the model's signatureVersion.
local core = require "awspromise.core"

local auth = {}

local BY_AUTHTYPE = {v4 = "v4", ["v4-unsigned-body"] = "v4", bearer = "bearer", none = "none"}

-- "v4", "v2", "bearer" or "none" for the operation entry op (nil: the client as a whole).
function auth.scheme(service, op)
  local chosen = service.config.signatureVersion
  if chosen then return chosen end
  local by_op = op and BY_AUTHTYPE[op.authtype]
  if by_op then return by_op end
  local version = service.api.signatureVersion
  if version == "v2" or version == "bearer" then return version end
  return "v4"
end

-- core.http's `sign` for a bearer token, kept while the token stays the same.
function auth.bearer(service, identity)
  local cached = service.bearerCache
  if cached and cached.token == identity.token then return cached.options end
  local options = core.http_signing {version = "bearer", token = identity.token}
  service.bearerCache = {token = identity.token, options = options}
  return options
end

return auth
