-- STS: assumeRoleWithWebIdentity and assumeRoleWithSAML are sent unsigned (their token is the
-- proof), so they need no credentials. Regional endpoints (stsRegionalEndpoints,
-- AWS_STS_REGIONAL_ENDPOINTS) are resolved by endpoints.lua.
local support = require "awspromise.customizations.support"

local UNSIGNED = {AssumeRoleWithWebIdentity = true, AssumeRoleWithSAML = true}

local function request_hook(_, request)
  if not UNSIGNED[request.operation] then return end
  support.after_build(request, function(http) http.authtype = "none" end)
end

return {request = request_hook}
