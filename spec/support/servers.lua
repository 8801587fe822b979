-- Starts fixture servers (Python scripts run by Debian's /usr/bin/python3) from specs.
--
--   local servers = require "support.servers"
--   local srv = servers.start("spec/support/cred_server.py", {"--flag", "x"})
--   srv.port, srv.url ("http://127.0.0.1:<port>"), srv.pid
--   srv.request(method, path[, body[, headers]]) -> response (blocks, driving the loop)
--   srv.json(method, path[, value]) -> decoded JSON answer (the control paths)
--   srv.stop()
--
-- A fixture must print "PORT <n>" as its first stdout line (then may print "PID <pid>"), write
-- nothing else on stdout, and exit when its parent process dies. It is started with `exec`, so
-- that its parent is this Lua process: when busted exits, the fixture notices and goes away.
local support = require "support.loop"

local servers = {}

local PYTHON = "/usr/bin/python3"

local quote = support.quote

local repo_root = support.repo_root

local running = {}

function servers.start(script, args, opts)
  opts = opts or {}
  if not script:match("^/") then script = repo_root() .. "/" .. script end
  -- env replaces itself with the interpreter, so the parent stays this process; a sanitizer
  -- preloaded into the specs (make asan) has no business in the fixture.
  local parts = {"exec env -u LD_PRELOAD", quote(opts.interpreter or PYTHON), quote(script)}
  for _, a in ipairs(args or {}) do parts[#parts + 1] = quote(a) end
  local f = assert(io.popen(table.concat(parts, " "), "r"))
  local first = f:read("l")
  local port = first and first:match("^PORT (%d+)")
  if not port then
    f:close()
    error(("servers.start: %s did not print PORT <n> (got %q)"):format(script, tostring(first)), 2)
  end
  local second = f:read("l")
  local pid = second and tonumber(second:match("^PID (%d+)"))
  local srv = {port = tonumber(port), pid = pid, url = "http://127.0.0.1:" .. port}
  local stopped = false

  function srv.stop()
    if stopped then return end
    stopped = true
    if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
    f:close() -- waits for the process: no zombie
    running[srv] = nil
  end

  function srv.request(method, path, body, headers)
    require "awspromise" -- p:await() is defined by the Lua layer
    local core = require "awspromise.core"
    local p = core.http {method = method, url = srv.url .. path, body = body, headers = headers or {},
      timeout = 5000, proxy = ""}
    return p:await()
  end

  function srv.json(method, path, value)
    local core = require "awspromise.core"
    local res = srv.request(method, path, value ~= nil and core.json_encode(value) or nil,
      {["Content-Type"] = "application/json"})
    assert(res.statusCode == 200, ("%s %s answered %d"):format(method, path, res.statusCode))
    return core.json_decode(res.body)
  end

  running[srv] = true
  return srv
end

-- Stops every server still running (for an after-all hook).
function servers.stop_all()
  for srv in pairs(running) do srv.stop() end
end

-- A loopback port that nothing listens on (bound, then released).
function servers.closed_port()
  local f = assert(io.popen("env -u LD_PRELOAD " .. quote(PYTHON) .. " -c " .. quote(
    "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")))
  local port = tonumber(f:read("l"))
  f:close()
  return port
end

return servers
