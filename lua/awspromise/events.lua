-- AWS.events: listeners every request gets (JavaScript v2's global AWS.events), and the HTTP
-- events of a completed reply. httpHeaders, httpData and httpDone fire once the whole reply is in
-- (the engine hands over complete responses): httpData gets the body as one chunk.
--
--   AWS.events:on(event, fn)  /  AWS.events.on(event, fn)      -- any event of request:on
--   AWS.events:removeListener(event, fn), AWS.events:removeAllListeners([event])
local Promise = require "awspromise.promise"
local Request = require "awspromise.request"

local make_error = Promise.make_error

local events = {}
local global = {} -- event -> list of listeners
local count = 0

-- A request's own listener lists, starting as copies of the global ones (nil when none).
local function copies()
  if count == 0 then return nil end
  local lists = {}
  for event, list in pairs(global) do
    if #list > 0 then lists[event] = table.move(list, 1, #list, 1, {}) end
  end
  return lists
end

local function recount()
  count = 0
  for _, list in pairs(global) do count = count + #list end
  Request.globalListeners = count > 0 and copies or function() return nil end
end

local emitter = {}

local function args(self, ...)
  if self == emitter then return ... end
  return self, ...
end

function emitter.on(...)
  local event, fn = args(...)
  if not Request.EVENTS[event] then
    error(make_error("InvalidParameter", "AWS.events:on: unknown event '" .. tostring(event) .. "'"), 2)
  end
  if not Promise.callable(fn) then
    error(make_error("InvalidParameter", "AWS.events:on: the listener for '" .. event .. "' must be callable"), 2)
  end
  global[event] = global[event] or {}
  table.insert(global[event], fn)
  recount()
  return emitter
end
emitter.addListener = emitter.on

function emitter.removeListener(...)
  local event, fn = args(...)
  local list = global[event] or {}
  for i = #list, 1, -1 do
    if list[i] == fn then table.remove(list, i) end
  end
  recount()
  return emitter
end

function emitter.removeAllListeners(...)
  local event = args(...)
  if event == nil then global = {} else global[event] = nil end
  recount()
  return emitter
end

events.emitter = emitter

-- httpHeaders(statusCode, headers, response, statusMessage), httpData(chunk, response),
-- httpDone(response) for one complete reply.
function events.http_events(request, result, emit, response_of)
  local listeners = request.listeners
  if not (listeners.httpHeaders or listeners.httpData or listeners.httpDone) then return end
  local response = response_of(request, result, nil, nil)
  emit(request, "httpHeaders", result.statusCode, result.headers, response, result.statusMessage)
  if result.body and result.body ~= "" then emit(request, "httpData", result.body, response) end
  emit(request, "httpDone", response)
end

return events
