-- A recording endpoint for wire-format specs (spec/support/fault_server.py's /record paths): every
-- request sent to recorder.endpoint(key) is kept, and answered with the reply set for key.
--
--   local recorder = require("support.recorder").start()
--   recorder.reply(key, {status = 200, headers = {["Content-Type"] = "text/xml"}, body = "<x/>"})
--   AWS.SQS({endpoint = recorder.endpoint(key), ...})
--   recorder.requests(key) -> {{method =, path =, headers = {lowercase = value}, body =}, ...}
local servers = require "support.servers"

local M = {}

function M.start()
  local srv = servers.start("spec/support/fault_server.py")
  local recorder = {server = srv}
  local next_key = 0

  -- A fresh key: each spec records on its own.
  function recorder.key(prefix)
    next_key = next_key + 1
    return (prefix or "k") .. next_key
  end

  function recorder.endpoint(key) return srv.url .. "/record/" .. key end

  function recorder.reply(key, reply) srv.json("POST", "/_reply/" .. key, reply) end

  function recorder.requests(key) return srv.json("GET", "/_recorded/" .. key) end

  function recorder.last(key)
    local all = recorder.requests(key)
    return all[#all]
  end

  -- Requests to the server's root (srv.url .. "/") are recorded under key from now on.
  function recorder.record_root(key) srv.json("POST", "/_record_root/" .. key) end

  function recorder.stop() srv.stop() end

  return recorder
end

return M
