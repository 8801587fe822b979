-- Finding the function _HANDLER names, calling it in any of its three forms, and turning what it
-- raised or rejected with into the Runtime API's error document.
--
--   handler.load(spec, task_root) -> fn | nil, error document (init errors: Runtime.*)
--   handler.invoke(fn, event, context) -> promise of the result
--   handler.error_document(reason) -> {errorMessage=, errorType=, stackTrace={...}}
local Promise = require "awspromise.promise"
local core = require "awspromise.core"

local handler = {}

-- A raised error with the traceback taken where it was raised.
local Fault = {}
Fault.__index = Fault
Fault.__tostring = function(f) return tostring(f.reason) end

local function capture(reason)
  return setmetatable({reason = reason, trace = debug.traceback(nil, 2)}, Fault)
end

-- The traceback's lines down to the handler's caller: the frames below are the runtime's.
local function lines_of(text)
  local out = {}
  for line in tostring(text):gmatch("[^\n]+") do
    local item = line:gsub("^%s+", "")
    if item == "[C]: in function 'xpcall'" then break end
    if item ~= "stack traceback:" and item ~= "[C]: in ?" then out[#out + 1] = item end
  end
  return out
end

local function text_field(t, ...)
  for i = 1, select("#", ...) do
    local v = rawget(t, (select(i, ...)))
    if type(v) == "string" then return v end
  end
  return nil
end

-- errorType: the error's own errorType, code (awspromise.Error) or name, else "Error";
-- errorMessage: its errorMessage or message, else tostring; stackTrace: where it was raised (for
-- a raised error), else its own stackTrace or stack.
function handler.error_document(reason, default_type)
  local trace
  if getmetatable(reason) == Fault then
    reason, trace = reason.reason, reason.trace
  end
  local doc = {errorType = default_type or "Error", stackTrace = {}}
  if type(reason) == "table" then
    doc.errorType = text_field(reason, "errorType", "code", "name") or doc.errorType
    doc.errorMessage = text_field(reason, "errorMessage", "message")
    local own = rawget(reason, "stackTrace") or rawget(reason, "stack")
    if type(own) == "table" then doc.stackTrace = own elseif type(own) == "string" then trace = trace or own end
  end
  if not doc.errorMessage then
    local ok, text = pcall(tostring, reason)
    doc.errorMessage = ok and text or "(an error whose __tostring failed)"
  end
  if trace then doc.stackTrace = lines_of(trace) end
  setmetatable(doc.stackTrace, core.json_array_mt)
  return doc
end

-- An error the runtime itself reports (init errors, marshalling): no stack to show.
function handler.runtime_error(error_type, message)
  return {errorType = error_type, errorMessage = message, stackTrace = setmetatable({}, core.json_array_mt)}
end

-- "module.function": the module is everything before the last dot ("lib/jobs.run" and
-- "lib.jobs.run" both name lib/jobs.lua under the task root), the function what follows it.
function handler.load(spec, task_root)
  local module, name = tostring(spec or ""):match("^([%w_/%.%-]+)%.([%a_][%w_]*)$")
  if not module or module:find("%.%.") or module:sub(1, 1) == "/" then
    return nil, handler.runtime_error("Runtime.MalformedHandlerName",
      ("Bad handler '%s': expected module.function, e.g. handler.handler"):format(tostring(spec)))
  end
  module = (module:gsub("/", "."))
  local root = task_root or "."
  local file = package.searchpath(module, root .. "/?.lua;" .. root .. "/?/init.lua")
  if not file then
    return nil, handler.runtime_error("Runtime.ImportModuleError",
      ("Cannot find module '%s' (%s.lua) under %s"):format(module, (module:gsub("%.", "/")), root))
  end
  local chunk, err = loadfile(file)
  local ok, exports = false, err
  if chunk then ok, exports = xpcall(chunk, capture, module, file) end
  if not ok then
    local doc = handler.error_document(exports, "Runtime.ImportModuleError")
    doc.errorType = "Runtime.ImportModuleError"
    return nil, doc
  end
  if package.loaded[module] == nil then package.loaded[module] = exports == nil and true or exports end
  local fn = type(exports) == "table" and exports[name] or nil
  if not Promise.callable(fn) then
    return nil, handler.runtime_error("Runtime.HandlerNotFound",
      ("%s.%s is undefined or not a function (%s returned %s)"):format(module, name, file, type(exports)))
  end
  return fn
end

-- Whether a nil return means "the callback will answer": the function declares a third
-- parameter (or takes ...), as function(event, context, callback) does.
local function takes_callback(fn)
  local self_arg = 0
  if type(fn) ~= "function" then
    fn, self_arg = getmetatable(fn).__call, 1
  end
  local info = debug.getinfo(fn, "u")
  return info.isvararg or info.nparams >= 3 + self_arg
end

local function is_thenable(v)
  return core.is_promise(v) or (type(v) == "table" and Promise.callable(rawget(v, "next") or v.next))
end

-- The first outcome wins: callback(err, result), a raised error, a returned promise (settling
-- later) or a returned value. A handler that takes a callback and returns nil is waited for.
function handler.invoke(fn, event, ctx)
  return Promise.new(function(fulfill, fail)
    local settled = false
    local function settle(ok, value)
      if settled then return end
      settled = true
      if ok then fulfill(value) else fail(value) end
    end
    local function callback(err, result)
      if err ~= nil and err ~= false and err ~= core.null then return settle(false, err) end
      settle(true, result)
    end
    local ok, result = xpcall(fn, capture, event, ctx, callback)
    if not ok then return settle(false, result) end
    if is_thenable(result) or result ~= nil or not takes_callback(fn) then settle(true, result) end
  end)
end

return handler
