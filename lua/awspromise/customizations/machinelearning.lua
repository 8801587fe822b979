-- Machine Learning: predict goes to the model's own PredictEndpoint.
local support = require "awspromise.customizations.support"

local function request_hook(_, request)
  if request.operation ~= "Predict" then return end
  support.after_build(request, function(http, req)
    local origin, hostname = support.origin(req.params.PredictEndpoint)
    if origin then support.move_to(http, origin, hostname) end
  end)
end

return {request = request_hook}
