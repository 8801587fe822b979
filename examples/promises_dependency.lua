-- AWS.config.setPromisesDependency: request:promise() returns promises of another library.
-- Any library with new(executor) (or a callable dep(executor)) works; this one is written here
-- in a few lines to show the contract.
local AWS = require "awspromise"

local Deferred = {}
Deferred.__index = Deferred
function Deferred.new(executor)
  local self = setmetatable({callbacks = {}}, Deferred)
  local function settle(ok, value)
    if self.settled then return end
    self.settled, self.ok, self.value = true, ok, value
    for _, cb in ipairs(self.callbacks) do cb() end
  end
  executor(function(v) settle(true, v) end, function(e) settle(false, e) end)
  return self
end
function Deferred:next(on_ok, on_err)
  return Deferred.new(function(resolve, reject)
    local function run()
      local handler = self.ok and on_ok or on_err
      if handler then resolve(handler(self.value)) elseif self.ok then resolve(self.value) else reject(self.value) end
    end
    if self.settled then run() else table.insert(self.callbacks, run) end
  end)
end

AWS.config.setPromisesDependency(Deferred)
local promise = AWS.S3({apiVersion = '2006-03-01'}):headBucket({Bucket = 'bucket'}):promise()
print("promise made by the dependency:", getmetatable(promise) == Deferred)
promise:next(function() print("bucket exists") end, function(err) print("headBucket failed: " .. tostring(err)) end)

-- To return to the module's own promises:
AWS.config.setPromisesDependency(nil)
