-- RDS, DocDB and Neptune: operations that copy from another region take SourceRegion (a
-- parameter of the SDK, not of the API) and send a PreSignedUrl made in that region instead.
local presign = require "awspromise.customizations.presign"
local support = require "awspromise.customizations.support"

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

-- operations: the cross-region operation names of one service.
return function(operations)
  operations = set(operations)
  local function request_hook(service, request)
    if not operations[request.operation] or (request.params or {}).SourceRegion == nil then return end
    local source
    support.rewrite_params(request, function(params)
      source = params.SourceRegion
      params.SourceRegion = nil
    end)
    presign.on_sign(service, request, function(params, creds)
      local destination = service:region()
      if params.PreSignedUrl or source == destination then return end
      params.PreSignedUrl = presign.operation_url(service, request.operation, params, source, creds,
        "DestinationRegion=" .. destination)
    end)
  end
  return {request = request_hook}
end
