-- awspromise.lambda: an AWS Lambda custom runtime (provided.al2023) on the awspromise loop.
--
-- The bootstrap (tools/lambda-bootstrap, copied as `bootstrap` by tools/lambda-package) runs
-- `require("awspromise.lambda").start()`: it loads _HANDLER ("module.function", module.lua under
-- LAMBDA_TASK_ROOT), then asks the Runtime API (AWS_LAMBDA_RUNTIME_API) for invocations forever.
-- Each invocation's handler runs on the main thread and the loop turns while its result is
-- awaited, so the requests of one invocation run concurrently; the invocation ends as soon as the
-- result is known (a request still pending then goes on during the next wait).
--
--   lambda.start([opts]) -> exit code          opts: api, handler, task_root, getenv, limit
--   lambda.runtime{api = "host:port", handler = fn} -> runtime
--   lambda.ca_bundle([getenv[, exists]]) -> the CA file start() gives AWS.config, or nil
--   runtime:run([limit]) -> served, error      serves invocations until limit or an API failure
--   runtime:report_init_error(doc) -> true | false
--   lambda.null, lambda.array_mt, lambda.object_mt, lambda.encode_result, lambda.decode_event
--                                               the JSON rule (awspromise/lambda/json.lua)
--   lambda.context, lambda.load_handler, lambda.invoke, lambda.error_document
--                                               the pure parts (lambda/context.lua, lambda/handler.lua)
local AWS = require "awspromise" -- also defines p:await()
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local json = require "awspromise.lambda.json"
local context = require "awspromise.lambda.context"
local handler = require "awspromise.lambda.handler"

local lambda = {
  API_VERSION = "2018-06-01",
  null = json.null, array_mt = json.array_mt, object_mt = json.object_mt,
  encode_result = json.encode_result, decode_event = json.decode_event,
  context = context.new, wall_ms = context.wall_ms,
  load_handler = handler.load, invoke = handler.invoke, error_document = handler.error_document,
}

-- _X_AMZ_TRACE_ID is the current invocation's trace header while the runtime runs (core.setenv:
-- Lua itself cannot set an environment variable).
local function set_trace(header)
  core.setenv("_X_AMZ_TRACE_ID", header)
end

-- true, value or false, reason, turning the loop until p settles.
local function settle(p)
  return pcall(function() return p:await() end)
end

local Runtime = {}
Runtime.__index = Runtime

function lambda.runtime(opts)
  assert(type(opts) == "table" and type(opts.api) == "string", "lambda.runtime: opts.api (host:port) is required")
  return setmetatable({
    base = "http://" .. opts.api .. "/" .. lambda.API_VERSION .. "/runtime",
    handler = opts.handler,
    getenv = opts.getenv,
  }, Runtime)
end

-- One Runtime API call: a promise of {statusCode, headers, body}. No timeout: /next is a long
-- poll that lasts until the next invocation. No proxy: the API is local to the sandbox.
function Runtime:call(method, path, body, headers)
  return core.http {method = method, url = self.base .. path, body = body,
    headers = headers or {}, proxy = "", timeout = 0}
end

function Runtime:post_error(path, doc)
  local body = core.json_encode_safe(doc)
  if not body then
    body = core.json_encode({errorType = tostring(doc.errorType), errorMessage = tostring(doc.errorMessage)})
  end
  -- A header value cannot hold a line break; a user's errorType might.
  local error_type = tostring(doc.errorType):gsub("%c", " ")
  return self:call("POST", path, body,
    {["Content-Type"] = "application/json", ["Lambda-Runtime-Function-Error-Type"] = error_type})
end

function Runtime:report_init_error(doc)
  local ok, res = settle(self:post_error("/init/error", doc))
  return ok and res.statusCode >= 200 and res.statusCode < 300
end

-- p, or a promise that rejects with Sandbox.Timedout when the deadline comes first.
local function within_deadline(p, ctx, started)
  local remaining = ctx.getRemainingTimeInMillis()
  if not remaining then return p end
  return Promise.new(function(fulfill, fail)
    local timer = core.timer(remaining, function()
      fail({errorType = "Sandbox.Timedout", errorMessage =
        ("Task timed out after %.2f seconds"):format((core.now() - started) / 1000)})
    end)
    p:next(function(value) timer:cancel(); fulfill(value) end,
           function(reason) timer:cancel(); fail(reason) end)
  end)
end

-- true, JSON text of the result; or false, the error document.
function Runtime:outcome(next_response, started)
  local event, decode_err = json.decode_event(next_response.body)
  if event == nil then
    return false, handler.runtime_error("Runtime.UnmarshalError", "the event is not JSON: " .. tostring(decode_err))
  end
  local ctx = context.new(next_response.headers, self.getenv)
  local ok, value = settle(within_deadline(handler.invoke(self.handler, event, ctx), ctx, started))
  if not ok then return false, handler.error_document(value) end
  local text, encode_err = json.encode_result(value)
  if not text then
    return false, handler.runtime_error("Runtime.MarshalError", "the result has no JSON form: " .. tostring(encode_err))
  end
  return true, text
end

local function accepted(res)
  return res.statusCode >= 200 and res.statusCode < 300
end

-- Serves one invocation; nil and a message when the Runtime API itself fails.
function Runtime:serve_one()
  local ok, res = settle(self:call("GET", "/invocation/next"))
  if not ok then return nil, "GET /invocation/next failed: " .. tostring(res) end
  local id = res.headers["lambda-runtime-aws-request-id"]
  if res.statusCode ~= 200 or not id then
    return nil, ("GET /invocation/next answered %d without an invocation: %s"):format(res.statusCode, res.body)
  end
  local started = core.now()
  set_trace(res.headers["lambda-runtime-trace-id"])
  local path = "/invocation/" .. id
  local fine, result = self:outcome(res, started)
  local posted
  if fine then
    ok, posted = settle(self:call("POST", path .. "/response", result, {["Content-Type"] = "application/json"}))
    if ok and not accepted(posted) then
      -- Refused (413: past the payload limit): the invocation fails with the API's reason.
      local refusal = json.decode_event(posted.body)
      local reason = type(refusal) == "table" and refusal.errorMessage or posted.body
      local error_type = posted.statusCode == 413 and "Function.ResponseSizeTooLarge" or "Runtime.ResponseRejected"
      ok, posted = settle(self:post_error(path .. "/error", handler.runtime_error(error_type, tostring(reason))))
    end
  else
    ok, posted = settle(self:post_error(path .. "/error", result))
  end
  if not ok then return nil, "posting the outcome of " .. id .. " failed: " .. tostring(posted) end
  return true
end

function Runtime:run(limit)
  local previous_trace = os.getenv("_X_AMZ_TRACE_ID")
  local served, err = 0, nil
  while not limit or served < limit do
    local raised, ok
    raised, ok, err = pcall(self.serve_one, self)
    if not raised then ok, err = nil, "awspromise.lambda: " .. tostring(ok) end
    if not ok then break end
    served = served + 1
  end
  set_trace(previous_trace)
  return served, err
end

local function log(...)
  io.stderr:write("awspromise.lambda: ", ...)
  io.stderr:write("\n")
end

local function readable(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- The CA bundle for HTTPS. A libcurl built on Debian (the one tools/lambda-package ships) looks
-- for /etc/ssl/certs/ca-certificates.crt, which Amazon Linux does not have: it keeps its bundle
-- at /etc/pki/tls/certs/ca-bundle.crt. AWS_CA_BUNDLE, as every AWS SDK reads it, comes first.
function lambda.ca_bundle(getenv, exists)
  getenv, exists = getenv or os.getenv, exists or readable
  local named = getenv("AWS_CA_BUNDLE")
  if named and named ~= "" then return named end
  if exists("/etc/ssl/certs/ca-certificates.crt") then return nil end
  if exists("/etc/pki/tls/certs/ca-bundle.crt") then return "/etc/pki/tls/certs/ca-bundle.crt" end
  return nil
end

function lambda.start(opts)
  opts = opts or {}
  local getenv = opts.getenv or os.getenv
  io.stdout:setvbuf("line") -- Lambda's stdout is a pipe: keep log lines in order and whole
  local api = opts.api or getenv("AWS_LAMBDA_RUNTIME_API")
  if not api or api == "" then
    log("AWS_LAMBDA_RUNTIME_API is not set: the bootstrap runs inside Lambda, or against tools/lambda-runtime-api.py")
    return 1
  end
  local runtime = lambda.runtime {api = api, getenv = opts.getenv}
  local ca_file = lambda.ca_bundle(getenv)
  if ca_file and not AWS.config.httpOptions.caFile then AWS.config:update {httpOptions = {caFile = ca_file}} end
  local task_root = opts.task_root or getenv("LAMBDA_TASK_ROOT") or "."
  package.path = task_root .. "/?.lua;" .. task_root .. "/?/init.lua;" .. package.path
  local fn, doc = handler.load(opts.handler or getenv("_HANDLER"), task_root)
  if not fn then
    log(doc.errorType, ": ", doc.errorMessage)
    if not runtime:report_init_error(doc) then log("the Runtime API did not take the init error") end
    return 1
  end
  runtime.handler = fn
  local _, err = runtime:run(opts.limit)
  if err then
    log(err)
    return 1
  end
  return 0
end

return lambda
