-- The context object a Lambda handler receives, made from one invocation's Runtime API headers
-- and the environment Lambda sets for the function.
--
--   context.new(headers[, getenv[, wall_ms]]) -> context
--   context.wall_ms()   milliseconds since the epoch, to the millisecond
local core = require "awspromise.core"
local json = require "awspromise.lambda.json"

local context = {}

-- Milliseconds since the epoch, to the millisecond (core.now's second value: the wall clock).
function context.wall_ms()
  local _, epoch_ms = core.now()
  return epoch_ms
end

-- A JSON header (client context, Cognito identity) as a table; nil when absent or not JSON.
local function json_header(text)
  if not text or text == "" then return nil end
  local value = json.decode_event(text)
  return type(value) == "table" and value or nil
end

-- headers: the response headers of GET .../invocation/next, lower-case names (core.http's).
function context.new(headers, getenv, wall_ms)
  getenv = getenv or os.getenv
  wall_ms = wall_ms or context.wall_ms
  local deadline = tonumber(headers["lambda-runtime-deadline-ms"])
  local memory = tonumber(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") or "")
  local ctx = {
    awsRequestId = headers["lambda-runtime-aws-request-id"],
    invokedFunctionArn = headers["lambda-runtime-invoked-function-arn"],
    functionName = getenv("AWS_LAMBDA_FUNCTION_NAME"),
    functionVersion = getenv("AWS_LAMBDA_FUNCTION_VERSION"),
    memoryLimitInMB = memory and math.tointeger(memory) or memory,
    logGroupName = getenv("AWS_LAMBDA_LOG_GROUP_NAME"),
    logStreamName = getenv("AWS_LAMBDA_LOG_STREAM_NAME"),
    identity = json_header(headers["lambda-runtime-cognito-identity"]),
    clientContext = json_header(headers["lambda-runtime-client-context"]),
    deadlineMs = deadline,
  }
  -- Works as context.getRemainingTimeInMillis() and context:getRemainingTimeInMillis().
  function ctx.getRemainingTimeInMillis()
    if not deadline then return nil end
    return math.max(0, math.floor(deadline - wall_ms()))
  end
  return ctx
end

return context
