-- A deliberately small promise library, independent of awspromise, for the
-- setPromisesDependency specs. It settles synchronously and records every promise it makes.
local Mini = {made = 0}
Mini.__index = Mini

function Mini.new(executor)
  local self = setmetatable({state = "pending", callbacks = {}}, Mini)
  Mini.made = Mini.made + 1
  local function settle(state, value)
    if self.state ~= "pending" then return end
    self.state, self.value = state, value
    for _, cb in ipairs(self.callbacks) do cb() end
  end
  executor(function(v) settle("fulfilled", v) end, function(r) settle("rejected", r) end)
  return self
end

function Mini:next(on_fulfilled, on_rejected)
  return Mini.new(function(resolve, reject)
    local function run()
      local handler = self.state == "fulfilled" and on_fulfilled or on_rejected
      if handler then
        resolve(handler(self.value))
      elseif self.state == "fulfilled" then
        resolve(self.value)
      else
        reject(self.value)
      end
    end
    if self.state == "pending" then table.insert(self.callbacks, run) else run() end
  end)
end

return Mini
