-- awspromise: AWS requests settled into promises. `local AWS = require "awspromise"`.
local core = require "awspromise.core"
local Promise = require "awspromise.promise"

local AWS = {VERSION = "0.1.0"}

-- AWS.Promise.new(executor), AWS.Promise(executor), and the combinators.
AWS.Promise = setmetatable(Promise, {__call = function(_, executor) return Promise.new(executor) end})
for _, name in ipairs {"new", "resolve", "reject", "all", "allSettled", "race", "any"} do
  AWS[name] = Promise[name]
end
AWS.async = Promise.async

AWS.run = core.run
AWS.loop = {fd = core.fd, timeout = core.timeout, step = core.step, alive = core.alive}
AWS.util = {delay = core.delay}

AWS.config = require("awspromise.config").new()
core.set_config(AWS.config)

return AWS
