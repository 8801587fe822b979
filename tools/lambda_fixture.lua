-- tools/lambda-runtime-api.py driven from a Lua tool (tools/lambda-package, tools/lambda-invoke,
-- bench/lambda.lua); the specs use spec/support/servers.lua instead.
--
--   local fixture = dofile(root .. "/tools/lambda_fixture.lua").start(root[, args])
--   fixture.api ("127.0.0.1:<port>", for AWS_LAMBDA_RUNTIME_API), fixture.url
--   fixture.call(method, path[, body]) -> {statusCode, headers, body}   (turns the loop)
--   fixture.invoke(payload_text[, count[, timeout_ms]]) -> ids
--   fixture.result(id[, wait_ms]) -> the outcome document, or nil when none came in time
--   fixture.state() -> the state document
--   fixture.stop()
require "awspromise" -- p:await()
local core = require "awspromise.core"

local M = {}

function M.start(root, args)
  local command = "exec /usr/bin/python3 '" .. root .. "/tools/lambda-runtime-api.py'"
  for _, a in ipairs(args or {}) do command = command .. " " .. a end
  local pipe = assert(io.popen(command))
  local port = (pipe:read("l") or ""):match("^PORT (%d+)")
  if not port then
    pipe:close()
    error("tools/lambda-runtime-api.py did not start")
  end
  local pid = pipe:read("l"):match("(%d+)")
  local fixture = {api = "127.0.0.1:" .. port, url = "http://127.0.0.1:" .. port}

  function fixture.call(method, path, body)
    return core.http {method = method, url = fixture.url .. path, body = body, proxy = "",
      headers = {["Content-Type"] = "application/json"}}:await()
  end

  local function json(method, path, body)
    local res = fixture.call(method, path, body)
    return res.statusCode == 200 and core.json_decode(res.body) or nil
  end

  function fixture.invoke(payload, count, timeout_ms)
    return json("POST", "/_control/invoke", core.json_encode({payload = payload, count = count, timeout_ms = timeout_ms})).ids
  end

  function fixture.result(id, wait_ms)
    return json("GET", "/_control/result/" .. id .. "?wait_ms=" .. (wait_ms or 10000))
  end

  function fixture.state() return json("GET", "/_control/state") end

  function fixture.stop()
    os.execute("kill " .. pid)
    pipe:close()
  end

  return fixture
end

return M
