-- Event-stream replies (Bedrock converseStream, S3 selectObjectContent, Lambda
-- invokeWithResponseStream, ...): the result member that holds the stream is an EventStream,
-- fed by the engine as the body arrives and read by the C reader (core.eventstream_decoder)
-- into events shaped like the members of the operation's union, e.g.
-- {contentBlockDelta = {delta = {text = "Hel"}, contentBlockIndex = 0}}.
--
-- Three ways to consume it, which may be mixed (data listeners take events first):
--   stream:on("data", fn(event)) / stream:on("end", fn()) / stream:on("error", fn(err))
--   for event in stream:events() do ... end   (inside AWS.async, or on the main thread; a stream
--                                             that ends with an error raises it from the loop)
--   stream:all() -> a promise of the list of every event
-- stream:close() ends it early: the transfer is aborted (its connection freed), no more events
-- come and no "end" is emitted; an iterator stops, all() fulfils with the events it had.
--
-- Backpressure: while no data listener is attached, at most HIGH_WATER events wait in the
-- queue; beyond that the transfer pauses until a reader brings it under LOW_WATER.
local core = require "awspromise.core"
local Promise = require "awspromise.promise"

local pending, settle = core.pending, core.settle
local error_mt = core.error_metatable

local HIGH_WATER, LOW_WATER = 64, 16

local EventStream = {}
EventStream.__index = EventStream

local LISTENED = {data = true, ["end"] = true, error = true}

function EventStream.new(operation, transfer, data)
  return setmetatable({
    reader = core.eventstream_decoder(operation),
    transfer = transfer or false,
    data = data or false, -- the result table: a json protocol's initial-response fills it
    queue = {}, first = 1, last = 0,
    listeners = {data = {}, ["end"] = {}, error = {}},
    ended = false, -- no event will come any more (error, end of body or close)
    err = false,
    announced = false, -- end or error told to the listeners
    paused = false,
    waiter = false, -- the promise an iterator waits on
    flushTimer = false,
  }, EventStream)
end

local function queued(self)
  return self.last - self.first + 1
end

local function dequeue(self)
  if self.first > self.last then return nil end
  local ev = self.queue[self.first]
  self.queue[self.first] = nil
  self.first = self.first + 1
  if self.paused and queued(self) <= LOW_WATER then
    self.paused = false
    if self.transfer then self.transfer:resume() end
  end
  return ev
end

local function drop_queue(self)
  for i = self.first, self.last do self.queue[i] = nil end
  self.first, self.last = 1, 0
end

local function wake(self)
  local waiter = self.waiter
  if waiter then
    self.waiter = false
    settle(waiter, true, nil)
  end
end

-- The end or the error, told on a turn of its own: a listener that raises is reported as any
-- timer callback's error (AWS.config.onUncaughtError), the stream being over by then.
local function announce(list, value)
  for _, fn in ipairs(list) do
    core.timer(0, function() fn(value) end)
  end
end

local stop

-- Hands queued events to data listeners (when there are any), then the end or the error. A data
-- listener that raises ends the stream with its error.
local function flush(self)
  local data = self.listeners.data
  while #data > 0 and self.first <= self.last do
    local ev = dequeue(self)
    for _, fn in ipairs(data) do
      local ok, err = pcall(fn, ev)
      if not ok then
        stop(self, type(err) == "table" and err or Promise.make_error("EventStreamError", tostring(err)))
        drop_queue(self)
        break
      end
    end
  end
  if self.ended and not self.announced and self.first > self.last then
    self.announced = true
    if self.err then
      announce(self.listeners.error, self.err)
    elseif not self.closed then
      announce(self.listeners["end"])
    end
  end
  wake(self)
end

-- Ends the stream with err (or quietly): no more bytes are wanted, so the transfer stops.
stop = function(self, err)
  if self.ended then return end
  self.ended = true
  self.err = err or false
  local transfer = self.transfer
  self.transfer = false
  if transfer and not self.done then transfer:abort() end
end

-- The engine's bytes, in order. Returns false to pause the transfer (a slow reader).
function EventStream:push(chunk)
  if self.ended then return true end
  local events, err = self.reader:feed(chunk)
  for i = 1, #events do
    local ev = events[i]
    local initial = ev["initial-response"]
    if initial then
      if self.data then
        for k, v in pairs(initial) do self.data[k] = v end
      end
    else
      self.last = self.last + 1
      self.queue[self.last] = ev
    end
  end
  if err then stop(self, err) end
  flush(self)
  if not self.ended and #self.listeners.data == 0 and queued(self) >= HIGH_WATER and self.transfer then
    self.paused = true
    return false
  end
  return true
end

-- The transfer is over: result is the engine's (an Error for a failed transfer).
function EventStream:finish(result)
  self.done = true
  self.transfer = false
  if not self.ended then
    if getmetatable(result) == error_mt then
      stop(self, result)
    else
      stop(self, self.reader:finish())
    end
  end
  flush(self)
end

function EventStream:on(event, fn)
  if not LISTENED[event] then
    error(Promise.make_error("InvalidParameter", "eventstream:on: unknown event '" .. tostring(event) .. "'"), 2)
  end
  if not Promise.callable(fn) then
    error(Promise.make_error("InvalidParameter", "eventstream:on: the listener for '" .. event .. "' must be callable"), 2)
  end
  local list = self.listeners[event]
  list[#list + 1] = fn
  -- a listener that comes after the end is still told, as a promise settled earlier would
  if self.announced then
    if event == "error" and self.err then
      announce({fn}, self.err)
    elseif event == "end" and not self.err and not self.closed then
      announce({fn})
    end
  end
  -- what is already queued (or the end) is told on a later turn, never inside on()
  if not self.flushTimer then
    self.flushTimer = core.timer(0, function()
      self.flushTimer = false
      flush(self)
    end)
  end
  return self
end

-- for event in stream:events() do ... end
function EventStream:events()
  return function()
    while true do
      local ev = dequeue(self)
      if ev then return ev end
      if self.ended then
        if self.err and not self.raised then
          self.raised = true
          self.announced = true
          error(self.err, 0)
        end
        return nil
      end
      if not self.waiter then self.waiter = pending() end
      self.waiter:await()
    end
  end
end

-- A promise of every event, in order (rejected with the error that ends the stream).
function EventStream:all()
  local list = {}
  return Promise.new(function(resolve, reject)
    self:on("data", function(ev) list[#list + 1] = ev end)
    self:on("end", function() resolve(list) end)
    self:on("error", reject)
    if self.closed then resolve(list) end
  end)
end

-- Ends the stream now and frees its connection.
function EventStream:close()
  if self.ended then return self end
  self.closed = true
  drop_queue(self)
  stop(self, nil)
  flush(self)
  return self
end

function EventStream:__tostring()
  return "AWS.EventStream(" .. (self.ended and "ended" or "open") .. ")"
end

-- The request side (request.lua): for an operation whose reply is an event stream, the engine
-- is asked to hand over the status line (onHeaders) and the body (onBody) as they come; the
-- request fulfils with the head's data and the stream in it, and the stream takes the rest.
local member_of = setmetatable({}, {__mode = "k"}) -- operation handle -> member name or false

local M = {EventStream = EventStream}

local function stream_member(handle)
  local member = member_of[handle]
  if member == nil then
    member = core.eventstream_member(handle) or false
    member_of[handle] = member
  end
  return member
end

-- Returns the completion callback core.http should get: on_complete itself for an operation
-- without a stream, else a wrapper. succeed(request, data, head) fulfils the request.
function M.prepare(request, http_request, on_complete, succeed)
  local member = stream_member(request.op.handle)
  if not member then return on_complete end
  local error_body = false
  local function on_headers(req, head)
    if head.statusCode >= 300 then
      error_body = {} -- an error reply is read whole, as any other
      return
    end
    local ok, data = core.parse_response(req.op.handle, {statusCode = head.statusCode, headers = head.headers,
      body = ""})
    if not ok then error(data, 0) end
    local stream = EventStream.new(req.op.handle, req.transfer, data)
    req.stream = stream
    data[member] = stream
    succeed(req, data, head)
  end
  http_request.onHeaders = on_headers
  http_request.onBody = function(req, chunk)
    if req.stream then return req.stream:push(chunk) end
    if error_body then error_body[#error_body + 1] = chunk end
    return true
  end
  return function(req, result)
    local failed = getmetatable(result) == error_mt
    -- an engine that gives the body whole at the end: the stream gets it all at once
    if not req.stream and not error_body and not failed then
      local head = {statusCode = result.statusCode, headers = result.headers}
      if result.statusCode < 300 and req.state == "sending" then
        local ok, err = pcall(on_headers, req, head)
        if not ok then return on_complete(req, err) end
        if req.stream then req.stream:push(result.body or "") end
      end
    end
    if req.stream then return req.stream:finish(result) end
    if error_body and not failed then result.body = table.concat(error_body) end
    return on_complete(req, result)
  end
end

return M
