-- IoT Data: the endpoint is per account, so a client needs an explicit one; shadow payloads come
-- back as strings.
local support = require "awspromise.customizations.support"

local BLOB_PAYLOAD = {DeleteThingShadow = true, GetThingShadow = true, UpdateThingShadow = true}

return {
  request = function(service, request)
    support.require_endpoint(service, "IotData", request)
    if BLOB_PAYLOAD[request.operation] then support.payload_as_string(request, "payload") end
  end,
}
