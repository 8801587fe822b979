-- request:createReadStream(): the response body as it arrives, in constant memory (JS v2's name;
-- any operation, made for s3:getObject). Starts the request.
--
--   local stream = s3:getObject{Bucket = b, Key = k}:createReadStream()
--   stream:read()          -> promise of the next chunk, nil at the end; rejects with the
--                             request's error (NoSuchKey, a network failure...)
--   for line in stream:lines() do ... end   (awaits each chunk: main thread or AWS.async)
--   stream:pipe(file_or_function) -> promise, fulfilled (with the byte count) once all was written;
--                             a function gets each chunk, a file handle gets :write(chunk)
--
-- Backpressure: while a chunk waits unread the transfer is paused (libcurl stops reading); read()
-- resumes it. A non-2xx answer is not streamed: its body is kept for the error parser, and the
-- request's error reaches the reader. An attempt that fails after bytes went out is not retried
-- (they cannot be taken back).
local Promise = require "awspromise.promise"
local core = require "awspromise.core"

local make_error = Promise.make_error
local error_mt = core.error_metatable

local Stream = {}
Stream.__index = Stream

-- ---------------------------------------------------------------- the engine's side

local function on_headers(request, head)
  local sink = request.bodySink
  sink.status = head.statusCode
end

local function on_body(request, chunk)
  local sink = request.bodySink
  if (sink.status or 200) >= 300 then
    sink.errorParts[#sink.errorParts + 1] = chunk
    return true
  end
  sink.delivered = sink.delivered + #chunk
  if sink.writer then
    sink.writer(chunk)
    return true
  end
  local waiting = sink.waiting
  if waiting then
    sink.waiting = false
    core.settle(waiting, true, chunk)
    return true
  end
  sink.queue[#sink.queue + 1] = chunk
  sink.paused = true
  return false
end

-- Called by the request before each attempt is sent.
function Stream:attach(http_request)
  self.status, self.errorParts = nil, {}
  http_request.onHeaders, http_request.onBody = on_headers, on_body
end

-- Called by the request with each attempt's outcome (the response table or the transport Error).
function Stream:attemptDone(result)
  if getmetatable(result) == error_mt then
    if self.delivered > 0 then result.retryable = false end
    return result
  end
  if #self.errorParts > 0 then result.body = table.concat(self.errorParts) end
  return result
end

-- ---------------------------------------------------------------- the reader's side

local function resume(self)
  if self.paused and #self.queue == 0 then
    self.paused = false
    local transfer = self.request.transfer
    if transfer then transfer:resume() end
  end
end

local function finished(self, ok, err)
  self.ended, self.err = true, not ok and err or nil
  local waiting = self.waiting
  if waiting then
    self.waiting = false
    core.settle(waiting, ok, ok and nil or err)
  end
  local piped = self.piped
  if piped then
    self.piped = false
    core.settle(piped, ok, ok and self.delivered or err)
  end
end

function Stream:read()
  if #self.queue > 0 then
    local chunk = table.remove(self.queue, 1)
    resume(self)
    return Promise.resolve(chunk)
  end
  if self.ended then
    if self.err then return Promise.reject(self.err) end
    return Promise.resolve(nil)
  end
  if self.writer then error(make_error("InvalidParameter", "stream:read: the stream is piped"), 2) end
  if not self.waiting then self.waiting = core.pending() end
  return self.waiting
end

function Stream:lines()
  local buffer, done = "", false
  return function()
    while true do
      local nl = buffer:find("\n", 1, true)
      if nl then
        local line = buffer:sub(1, nl - 1)
        buffer = buffer:sub(nl + 1)
        return line
      end
      if done then
        if buffer == "" then return nil end
        local last = buffer
        buffer = ""
        return last
      end
      local chunk = self:read():await()
      if chunk == nil then done = true else buffer = buffer .. chunk end
    end
  end
end

function Stream:pipe(destination)
  local writer
  if type(destination) == "function" then
    writer = destination
  elseif (type(destination) == "userdata" or type(destination) == "table") and destination.write then
    writer = function(chunk) assert(destination:write(chunk)) end
  else
    error(make_error("InvalidParameter", "stream:pipe: give a file handle or a function"), 2)
  end
  local piped = core.pending()
  for _, chunk in ipairs(self.queue) do writer(chunk) end
  self.queue = {}
  self.writer, self.piped = writer, piped
  if self.ended then finished(self, self.err == nil, self.err) end
  resume(self)
  return piped
end

-- ---------------------------------------------------------------- installation

local stream_module = {}

function stream_module.install(Request)
  function Request:createReadStream()
    if self.bodySink then return self.bodySink end
    if self.state ~= "new" then
      error(make_error("InvalidParameter", "createReadStream: the request was already sent"), 2)
    end
    local sink = setmetatable({request = self, queue = {}, errorParts = {}, delivered = 0,
      waiting = false, piped = false, paused = false, writer = false, ended = false}, Stream)
    self.bodySink = sink
    self:promise():next(function() finished(sink, true) end, function(err) finished(sink, false, err) end)
    return sink
  end
end

return stream_module
