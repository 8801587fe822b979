-- AWS.Request: one service call. Validation, serialization, signing, I/O and parsing are C; this
-- file sequences them, retries, and tells listeners. A request is sent at most once: promise()
-- and send() share one outcome, a promise of ours settled by the request's own continuations.
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local make_error = Promise.make_error
local retry = require "awspromise.retry"
local eventstream = require "awspromise.eventstream"

local pending, settle = core.pending, core.settle
local parse_response = core.parse_response
local error_mt = core.error_metatable

local Request = {}
Request.__index = Request

-- The methods of a response (request.response, data["$response"]); paginator.lua adds hasNextPage
-- and nextPage.
local Response = {}
Response.__index = Response
Request.Response = Response

local EVENTS = {
  validate = true, build = true, sign = true, send = true, retry = true, success = true,
  error = true, complete = true, httpHeaders = true, httpData = true,
  httpUploadProgress = true, httpDownloadProgress = true,
  afterBuild = true, extractData = true, extractError = true, httpDone = true, httpError = true,
}
Request.EVENTS = EVENTS

-- The life of a request: state -> event -> next state. An event its state does not list is
-- ignored, which is how a late completion, a second abort or a listener that aborted in the
-- middle of a step stop the work that follows. complete, failed and aborted are final (a
-- success listener that raises still turns complete into failed).
local TRANSITIONS = {
  new = {start = "validating", abort = "aborted"},
  validating = {validated = "building", fail = "failed", abort = "aborted"},
  building = {built = "credentials", fail = "failed", abort = "aborted"},
  credentials = {ready = "signing", fail = "failed", abort = "aborted"},
  signing = {send = "sending", fail = "failed", abort = "aborted"},
  sending = {succeed = "complete", retry = "retrying", fail = "failed", abort = "aborted"},
  retrying = {due = "credentials", fail = "failed", abort = "aborted"},
  complete = {reject = "failed"},
  failed = {},
  aborted = {},
}

-- Moves the request on `event`; nil (and no move) when its state does not take that event.
local function move(self, event)
  local to = TRANSITIONS[self.state][event]
  if to then self.state = to end
  return to
end

-- What a failure that raised a plain value becomes, by the state it happened in.
local ERROR_CODES = {
  validating = "InvalidParameter", building = "InvalidParameter", credentials = "CredentialsError",
  signing = "InvalidParameter", sending = "NetworkingError", retrying = "NetworkingError",
}

local function as_error(self, err)
  if type(err) == "table" then return err end
  return make_error(ERROR_CODES[self.state] or "UnknownError", tostring(err))
end

local function aborted_error()
  return make_error("RequestAbortedError", "Request aborted by user", {retryable = false})
end

-- Request.new(service, operation, params[, op]): op is the service's entry for the operation
-- ({name =, handle =, authtype =}); looked up by name when not given.
function Request.new(service, operation, params, op)
  -- Every field a plain call sets on its way is made here (false until set), so that the table
  -- never grows on the hot path. What only some operations or features set is left out (stream,
  -- bodySink, beforeSend, redirectCount, startClock): sixteen slots instead of thirty-two.
  return setmetatable({
    service = service,
    operation = operation,
    op = op or service.opCache[operation],
    params = params or {},
    retryCount = 0,
    state = "new",
    outcome = false,
    userPromise = false,
    httpRequest = false,
    hostname = false,
    transfer = false,
    timer = false,
    response = false,
    credentials = false, -- the attempt's, once resolved (customizations presign with them)
    checkResponse = false, -- a customization's look at each parsed reply (customizations/)
    -- set later, when used: stream (an event-stream reply's, eventstream.lua), bodySink
    -- (createReadStream's, s3_stream.lua), bodySource (a Body file or reader, s3_body.lua: each
    -- attempt streams it), beforeSend (fn(request, credentials, go(err)) before each attempt is
    -- signed, endpoint_discovery.lua)
    listeners = Request.globalListeners(), -- AWS.events' listeners (events.lua), or nil
  }, Request)
end

-- Replaced by events.lua (AWS.events): copies of the global listeners for a new request.
function Request.globalListeners() return nil end

-- request:on(event, fn): fn(...) is called as JavaScript's listeners are, with the response
-- (or the error and the response for "error"). Returns the request for chaining.
function Request:on(event, fn)
  if not EVENTS[event] then
    error(make_error("InvalidParameter", "request:on: unknown event '" .. tostring(event) .. "'"), 2)
  end
  if not Promise.callable(fn) then
    error(make_error("InvalidParameter", "request:on: the listener for '" .. event .. "' must be callable"), 2)
  end
  local listeners = self.listeners
  if not listeners then
    listeners = {}
    self.listeners = listeners
  end
  local list = listeners[event]
  if not list then
    list = {}
    listeners[event] = list
  end
  list[#list + 1] = fn
  return self
end

-- Listeners before completion may raise: the error becomes the request's outcome.
local function emit(self, event, ...)
  local list = self.listeners and self.listeners[event]
  if not list then return true end
  for i = 1, #list do
    local ok, err = pcall(list[i], ...)
    if not ok then return false, err end
  end
  return true
end

-- Listeners after the outcome is decided (error, complete) have no one to fail: each is called,
-- and what one raises goes to AWS.config.onUncaughtError, as a send callback's error does.
local function notify(self, event, ...)
  local list = self.listeners[event]
  if not list then return end
  for i = 1, #list do
    local ok, err = pcall(list[i], ...)
    if not ok then core.report_error(err, "'" .. event .. "' listener") end
  end
end

local function log(self, status)
  local logger = self.service.config.logger
  local elapsed = (core.now() - (self.startClock or core.now())) / 1000
  local line = string.format("[AWS %s %s %.3fs %d retries] %s", self.service.serviceIdentifier or "?",
    tostring(status or "-"), elapsed, self.retryCount, self.operation)
  local ok, err
  local object = type(logger) == "table" or type(logger) == "userdata" -- io.stdout will do
  if object and Promise.callable(logger.write) then
    ok, err = pcall(logger.write, logger, line .. "\n")
  elseif object and Promise.callable(logger.log) then
    ok, err = pcall(logger.log, logger, line)
  else
    ok, err = pcall(logger, line)
  end
  if not ok then io.stderr:write("awspromise: AWS.config.logger raised: ", tostring(err), "\n") end
end

-- The AWS.Response of an attempt, with its data or its error.
local function response_of(self, http_response, data, err)
  local headers = http_response and http_response.headers or {}
  return setmetatable({
    statusCode = http_response and http_response.statusCode,
    headers = headers,
    httpResponse = http_response,
    requestId = headers["x-amzn-requestid"] or headers["x-amz-request-id"] or headers["x-amz-requestid"],
    extendedRequestId = headers["x-amz-id-2"],
    retryCount = self.retryCount,
    request = self,
    data = data,
    error = err,
  }, Response)
end

-- data["$response"]: one metatable for every result; the response is found by the data table
-- (weak keys: the entry goes with the data).
local response_of_data = setmetatable({}, {__mode = "k"})
local DATA_MT = {
  __index = function(data, key)
    if key == "$response" then return response_of_data[data] end
  end,
}

-- Settles the request: event is "succeed" (value is the data), "fail" or "abort" (the error).
local function finish(self, event, value, http_response)
  if not move(self, event) then return end
  self.transfer, self.timer = false, false
  local ok = event == "succeed"
  local response
  if ok then
    response = response_of(self, http_response, value, nil)
  else
    response = response_of(self, http_response, nil, value)
  end
  self.response = response
  local listeners = self.listeners
  if ok then
    if type(value) == "table" then
      response_of_data[value] = response
      setmetatable(value, DATA_MT)
    end
    if listeners then
      local fine, err = emit(self, "success", response)
      if not fine then
        ok, value = false, err
        move(self, "reject")
      end
    end
  end
  if not ok then
    response.error = value
    if type(value) == "table" then
      value.retryCount = value.retryCount or self.retryCount
      value.time = value.time or os.time()
      value.region = value.region or self.service.config.region
      value.hostname = value.hostname or self.hostname or nil
      value.requestId = value.requestId or response.requestId
      value.statusCode = value.statusCode or response.statusCode
    end
    if listeners then notify(self, "error", value, response) end
  end
  if listeners then notify(self, "complete", response) end
  if self.service.config.logger then
    log(self, response.statusCode or (not ok and type(value) == "table" and value.code))
  end
  settle(self.outcome, ok, value)
end

-- Runs step(self, arg) protected: what it raises fails the request (when it is still running).
local function guarded(step, self, arg)
  local ok, err = pcall(step, self, arg)
  if not ok then finish(self, "fail", as_error(self, err), nil) end
end

local attempt

local function after_failure(self, err, http_response)
  local delay = retry.decide(self, err, http_response)
  if delay and self.bodySource and not self.bodySource:replayable(err) then delay = nil end
  if not delay then return finish(self, "fail", err, http_response) end
  err.retryDelay = delay
  self.retryCount = self.retryCount + 1
  if self.listeners then
    local fine, listener_err = emit(self, "retry", response_of(self, http_response, nil, err))
    if not fine then return finish(self, "fail", listener_err, http_response) end
  end
  if not move(self, "retry") then return end
  self.timer = core.timer(delay, function()
    self.timer = false
    if move(self, "due") then guarded(attempt, self) end
  end)
end

-- The engine's answer to one attempt: the response table, or the transport Error.
local function complete_attempt(self, result)
  if self.state ~= "sending" then return end
  self.transfer = false
  if self.bodySink then result = self.bodySink:attemptDone(result) end
  if getmetatable(result) == error_mt then
    result.hostname = self.hostname
    if self.listeners then emit(self, "httpError", result, response_of(self, nil, nil, result)) end
    return after_failure(self, result, nil)
  end
  if self.listeners then require("awspromise.events").http_events(self, result, emit, response_of) end
  local ok, data_or_err = parse_response(self.op.handle, result)
  if self.listeners then
    emit(self, ok and "extractData" or "extractError", response_of(self, result, ok and data_or_err or nil,
      not ok and data_or_err or nil))
  end
  -- customization hook: a reply that parsed may still be wrong, an error may be retryable
  if self.checkResponse then ok, data_or_err = self.checkResponse(self, ok, data_or_err, result) end
  if ok then return finish(self, "succeed", data_or_err, result) end
  return after_failure(self, data_or_err, result)
end

-- core.http's completion callback (a loop job): whatever raises here settles the request.
local function on_complete(self, result)
  guarded(complete_attempt, self, result)
end

local function fulfil_at_head(self, data, head)
  finish(self, "succeed", data, head)
end

local function add_progress_listeners(self, http_request)
  local listeners = self.listeners
  if listeners.httpUploadProgress and not http_request.onUploadProgress then
    http_request.onUploadProgress = function(loaded, total)
      emit(self, "httpUploadProgress", {loaded = loaded, total = total}, self)
    end
  end
  if listeners.httpDownloadProgress and not http_request.onDownloadProgress then
    http_request.onDownloadProgress = function(loaded, total)
      emit(self, "httpDownloadProgress", {loaded = loaded, total = total}, self)
    end
  end
end

-- Signs (in the engine, as the transfer starts) and sends with these credentials.
local function send(self, credentials)
  if not move(self, "ready") then return end
  local http_request = self.httpRequest
  self.credentials = credentials or false
  http_request.sign = credentials and self.service:signingOptions(credentials) or false
  if self.listeners then
    local fine, err = emit(self, "sign", self)
    if fine and self.listeners.send then fine, err = emit(self, "send", response_of(self, nil)) end
    if not fine then return finish(self, "fail", err, nil) end
    add_progress_listeners(self, http_request)
  end
  if self.state ~= "signing" then return end -- a listener aborted
  if self.bodySink then self.bodySink:attach(http_request) end
  if self.bodySource then self.bodySource:attach(http_request) end
  -- an event-stream reply fulfils at its head; the stream then takes the body as it arrives
  local done = on_complete
  if self.op.eventStream ~= false then done = eventstream.prepare(self, http_request, on_complete, fulfil_at_head) end
  -- looked up per call: a test or an embedder may stand in its own transport
  local transfer = core.http(http_request, done, self)
  move(self, "send")
  self.transfer = transfer
end

-- customization hook: endpoint discovery may address the attempt first, and calls go when done.
local function ready(self, credentials)
  local before = self.beforeSend
  if not before then return send(self, credentials) end
  before(self, credentials, function(err)
    if err then return finish(self, "fail", err, nil) end
    guarded(send, self, credentials)
  end)
end

local function credentials_failed(self, err)
  -- a service that may be used anonymously (CloudSearch Domain) goes unsigned instead
  if self.unsignedWithoutCredentials then return guarded(ready, self, nil) end
  if type(err) ~= "table" then err = make_error("CredentialsError", tostring(err)) end
  finish(self, "fail", err, nil)
end

-- One attempt: credentials, sign, send. Each attempt signs anew (fresh date, refreshed keys).
attempt = function(self)
  if self.httpRequest.authtype == "none" then return ready(self, nil) end
  local service = self.service
  local ok, creds, creds_promise = pcall(service.cachedCredentials, service, self)
  if not ok then return credentials_failed(self, creds) end
  if creds then return ready(self, creds) end
  creds_promise:next(function(c) guarded(ready, self, c) end, function(err) credentials_failed(self, err) end)
end

-- validating -> building -> credentials -> the first attempt, all in the caller's turn.
local function begin(self)
  local service = self.service
  if service.config.logger then self.startClock = core.now() end
  local fine, err = true, nil
  if self.listeners then fine, err = emit(self, "validate", self) end
  if not fine then return finish(self, "fail", as_error(self, err), nil) end
  local op, params = self.op, self.params
  service:validateParams(op, params)
  if not move(self, "validated") then return end
  local http_request = service:buildHttp(op, params)
  self.httpRequest = http_request
  self.hostname = http_request.hostname
  local body = http_request.body
  if body ~= nil and type(body) ~= "string" then require("awspromise.s3_body").adopt(self, http_request) end
  if self.listeners then fine, err = emit(self, "build", self) end
  if fine and self.listeners then fine, err = emit(self, "afterBuild", self) end
  if not fine then return finish(self, "fail", as_error(self, err), nil) end
  if not move(self, "built") then return end
  return attempt(self)
end

local function start(self)
  if self.outcome then return end
  self.outcome = pending()
  if not move(self, "start") then -- aborted before it started
    settle(self.outcome, false, aborted_error())
    return
  end
  guarded(begin, self)
end

-- request:promise(): starts the call once; the same promise every time. With a promise
-- dependency set (AWS.config.setPromisesDependency), a promise of that library.
function Request:promise()
  if self.userPromise then return self.userPromise end
  start(self)
  local config = self.service.globalConfig
  if config.getPromisesDependency() == nil then
    self.userPromise = self.outcome
  else
    local outcome = self.outcome
    self.userPromise = config.makePromise(function(resolve, reject) outcome:next(resolve, reject) end)
  end
  return self.userPromise
end

-- request:send(callback): callback(err, data) once the call completes; starts it if needed.
function Request:send(callback)
  start(self)
  if callback ~= nil then
    if not Promise.callable(callback) then
      error(make_error("InvalidParameter", "request:send: the callback must be callable"), 2)
    end
    local function call_back(err, data)
      local ok, raised = pcall(callback, err, data)
      if not ok then core.report_error(raised, "request:send callback") end
    end
    self.outcome:next(function(data) call_back(nil, data) end, function(err) call_back(err, nil) end)
  else
    core.mark_handled(self.outcome)
  end
  return self
end

-- request:abort(): settles the call at once with RequestAbortedError, in whatever state it is.
function Request:abort()
  if self.stream then self.stream:close() end
  if self.state == "new" then
    move(self, "abort") -- start() settles the outcome when it comes
    return self
  end
  if not TRANSITIONS[self.state].abort then return self end
  if self.transfer then self.transfer:abort() end
  if self.timer then self.timer:cancel() end
  finish(self, "abort", aborted_error(), nil)
  return self
end

function Request:__tostring()
  return "AWS.Request(" .. tostring(self.service.serviceIdentifier) .. "." .. self.operation .. ", " .. self.state .. ")"
end

require("awspromise.s3_stream").install(Request)

return Request
