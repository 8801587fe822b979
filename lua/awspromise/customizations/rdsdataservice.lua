-- RDS Data Service: "Communications link failure" (an Aurora Serverless database waking up) is
-- retried.
local function waking_up(err)
  return type(err) == "table" and err.code == "BadRequestException" and err.statusCode == 400 and
    type(err.message) == "string" and err.message:match("^Communications link failure") ~= nil
end

local function check_response(_, ok, result)
  if not ok and waking_up(result) then result.retryable = true end
  return ok, result
end

return {request = function(_, request) request.checkResponse = check_response end}
