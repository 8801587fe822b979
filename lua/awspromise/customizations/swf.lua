-- SWF: long polls (pollForActivityTask, pollForDecisionTask) hold the connection up to 60 s: a
-- shorter timeout would abort every empty poll, so theirs is at least 70 s.
local POLLS = {PollForActivityTask = true, PollForDecisionTask = true}
local LONG_POLL_TIMEOUT_MS = 70000

local support = require "awspromise.customizations.support"

local function request_hook(_, request)
  if not POLLS[request.operation] then return end
  request:on("build", function(req)
    local http = req.httpRequest
    local options = http.httpOptions or {}
    if options.timeout ~= nil and options.timeout < LONG_POLL_TIMEOUT_MS then
      http.httpOptions = support.merged(options, {timeout = LONG_POLL_TIMEOUT_MS})
    end
  end)
end

return {request = request_hook, LONG_POLL_TIMEOUT_MS = LONG_POLL_TIMEOUT_MS}
