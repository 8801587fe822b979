-- The context object a Lambda handler receives, made from one invocation's Runtime API headers
-- and the environment Lambda sets for the function.
--
--   context.new(headers[, getenv[, wall_ms]]) -> context
--   context.wall_ms()   milliseconds since the epoch, to the millisecond
local core = require "awspromise.core"
local json = require "awspromise.lambda.json"

local context = {}

-- Milliseconds between core.now() (monotonic) and the epoch. Lua's os.time() has whole seconds
-- only, and the deadline Lambda sends is epoch milliseconds: `date` is asked once, and the
-- monotonic clock carries the reading from then on.
local epoch_offset

local function measure_epoch_offset()
  local pipe = io.popen("date +%s%3N 2>/dev/null")
  local text = pipe and pipe:read("l")
  -- date reads the clock just before it writes the line: the moment the line arrives is the
  -- closer bound (fork and exec come before, the process's exit after).
  local arrived = core.now()
  if pipe then pipe:close() end
  local epoch_ms = tonumber(text or "")
  if epoch_ms and epoch_ms > 1e12 then return epoch_ms + 0.5 - arrived end -- %3N truncates
  -- No GNU date: whole seconds, taken as the middle of the current one (at most 500 ms off).
  return os.time() * 1000 + 500 - arrived
end

function context.wall_ms()
  if not epoch_offset then epoch_offset = measure_epoch_offset() end
  return core.now() + epoch_offset
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
