-- S3 Control: the AccountId becomes the host prefix ({AccountId}.s3-control..., from the
-- model); here it is checked first, as the JavaScript SDK does, since a bad one makes a bad host.
local support = require "awspromise.customizations.support"

local function check_account_id(req)
  local params = req.params or {}
  local id = params.AccountId
  if id == nil then return end
  local problem
  if type(id) ~= "string" then
    problem = "AccountId must be a string."
  elseif #id < 1 or #id > 63 then
    problem = "AccountId length should be between 1 to 63 characters, inclusive."
  elseif not (id:match("^%w$") or id:match("^%w[%w-]*%w$")) then
    problem = "AccountId should be hostname compatible. AccountId: " .. id
  end
  if problem then error(support.make_error("ValidationError", problem), 0) end
end

return {request = function(_, request) request:on("validate", check_account_id) end}
