-- API Gateway: every request asks for JSON (Accept: application/json unless one is given), and a
-- swagger export's body comes back as a string.
local support = require "awspromise.customizations.support"

local function request_hook(_, request)
  support.after_build(request, function(http)
    support.set_header_unless_given(http, "Accept", "application/json")
  end)
  if request.operation == "GetExport" and (request.params or {}).exportType == "swagger" then
    support.payload_as_string(request, "body")
  end
end

return {request = request_hook}
