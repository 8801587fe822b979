-- The service customizations of the JavaScript SDK v2 (its lib/services/*.js), one file per
-- service id, loaded when a client of that service is first made. A customization is a table:
--   classMembers = {Name = function(ctor) return value end}   AWS.<Class>.Name (Signer, DocumentClient...)
--   setup(service)            at construction (may raise: a missing endpoint, ...)
--   request(service, request) on every request, before it starts: listeners, params rewriting,
--                             request.checkResponse(request, ok, data_or_err, http) -> ok, data_or_err
--                             (a reply that parsed may still be wrong; an error may be retryable)
-- The service layer calls the three functions below; nothing else knows the customizations.
local M = {}

local HAVE = {
  apigateway = true, cloudfront = true, cloudsearchdomain = true, docdb = true, dynamodb = true,
  ec2 = true, eventbridge = true, glacier = true, iotdata = true, lambda = true,
  machinelearning = true, neptune = true, polly = true, rds = true, rdsdataservice = true,
  route53 = true, s3 = true, s3control = true, sqs = true, sts = true, swf = true,
}

local loaded = {}

local function customization(id)
  local c = loaded[id]
  if c == nil then
    c = HAVE[id] and require("awspromise.customizations." .. id) or false
    loaded[id] = c
  end
  return c
end

M.for_service = customization

-- AWS.<Class>.<key> beyond new/serviceIdentifier, or nil.
function M.class_member(id, key, ctor)
  local c = customization(id)
  local make = c and c.classMembers and c.classMembers[key]
  return make and make(ctor) or nil
end

function M.setup(service)
  local c = customization(service.serviceIdentifier)
  if c and c.setup then c.setup(service) end
end

function M.request(service, request)
  local c = customization(service.serviceIdentifier)
  if c and c.request then c.request(service, request) end
end

return M
