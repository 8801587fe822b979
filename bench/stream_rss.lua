-- Peak RSS of a large download: streamed to a file (core.http onBody, the engine under
-- createReadStream) against gathered into a string. Not part of `make bench`; run by hand:
--   lua5.4 bench/stream_rss.lua stream 256     # MiB, streamed to /dev/null
--   lua5.4 bench/stream_rss.lua string 256     # the same body gathered into one Lua string
-- It starts spec/support/stream_server.py on 127.0.0.1 and prints VmHWM (peak RSS) at the end.
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local AWS = require "awspromise"
local core = require "awspromise.core"
local servers = require "support.servers"

local mode, mib = arg[1] or "stream", tonumber(arg[2] or "256")
local server = servers.start("spec/support/stream_server.py")
local url = server.url .. "/bytes/bench/" .. (mib * 1024 * 1024)
local received = 0
local t0 = core.now()
if mode == "stream" then
  local sink = assert(io.open("/dev/null", "wb"))
  core.http {url = url, onBody = function(_, chunk) received = received + #chunk sink:write(chunk) end}:await()
  sink:close()
else
  received = #core.http {url = url}:await().body
end
local ms = core.now() - t0
server.stop()
local hwm
for line in io.lines("/proc/self/status") do hwm = hwm or line:match("^VmHWM:%s*(%d+) kB") end
print(("%s %d MiB: received %d bytes in %.0f ms, peak RSS %.1f MB"):format(mode, mib, received, ms, tonumber(hwm) / 1024))
AWS.run()
