-- EC2: copySnapshot from another region carries a PresignedUrl (the same call, presigned in
-- the source region) and DestinationRegion, unless the caller gave a PresignedUrl.
local presign = require "awspromise.customizations.presign"

local function request_hook(service, request)
  if request.operation ~= "CopySnapshot" or (request.params or {}).PresignedUrl then return end
  presign.on_sign(service, request, function(params, creds)
    if not params.SourceRegion then return end
    params.DestinationRegion = service:region()
    params.PresignedUrl = presign.operation_url(service, "CopySnapshot", params, params.SourceRegion, creds)
  end)
end

return {request = request_hook}
