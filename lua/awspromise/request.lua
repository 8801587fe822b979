-- AWS.Request: one service call. Validation, serialization, signing, I/O and parsing are C; this
-- file sequences them, retries, and tells listeners. A request is sent at most once: promise()
-- and send() share one outcome, a promise of ours settled by the request's own continuations.
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local retry = require "awspromise.retry"

local make_error = Promise.make_error
local pending, settle = core.pending, core.settle

local Request = {}
Request.__index = Request

local EVENTS = {
  validate = true, build = true, sign = true, send = true, retry = true, success = true,
  error = true, complete = true, httpHeaders = true, httpData = true,
  httpUploadProgress = true, httpDownloadProgress = true,
}

function Request.new(service, operation, params)
  return setmetatable({
    service = service,
    operation = operation,
    params = params or {},
    retryCount = 0,
    state = "new",
  }, Request)
end

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

local function log(self, status)
  local logger = self.service.config.logger
  if not logger then return end
  local elapsed = (core.now() - (self.startClock or core.now())) / 1000
  local line = string.format("[AWS %s %s %.3fs %d retries] %s", self.service.serviceIdentifier or "?",
    tostring(status or "-"), elapsed, self.retryCount, self.operation)
  local ok, err
  if type(logger) == "table" and Promise.callable(logger.write) then
    ok, err = pcall(logger.write, logger, line .. "\n")
  elseif type(logger) == "table" and Promise.callable(logger.log) then
    ok, err = pcall(logger.log, logger, line)
  else
    ok, err = pcall(logger, line)
  end
  if not ok then io.stderr:write("awspromise: AWS.config.logger raised: ", tostring(err), "\n") end
end

local function response_of(self, http)
  local headers = http and http.headers or {}
  return {
    statusCode = http and http.statusCode,
    headers = headers,
    httpResponse = http,
    requestId = headers["x-amzn-requestid"] or headers["x-amz-request-id"] or headers["x-amz-requestid"],
    extendedRequestId = headers["x-amz-id-2"],
    retryCount = self.retryCount,
    request = self,
  }
end

local function finish(self, ok, value, http)
  if self.state == "done" then return end
  self.state = "done"
  self.transfer, self.timer = nil, nil
  local response = response_of(self, http)
  self.response = response
  if ok then
    response.data = value
    if type(value) == "table" then
      setmetatable(value, {__index = function(_, k) if k == "$response" then return response end end})
    end
    local fine, err = emit(self, "success", response)
    if not fine then ok, value = false, err end
  end
  if not ok then
    response.error = value
    if type(value) == "table" then
      value.retryCount = value.retryCount or self.retryCount
      value.time = value.time or os.time()
      value.region = value.region or self.service.config.region
      value.hostname = value.hostname or self.hostname
      value.requestId = value.requestId or response.requestId
      value.statusCode = value.statusCode or response.statusCode
    end
    emit(self, "error", value, response)
  end
  emit(self, "complete", response)
  log(self, response.statusCode or (not ok and type(value) == "table" and value.code))
  settle(self.outcome, ok, value)
end

local attempt

local function after_failure(self, err, http)
  if self.state == "done" then return end
  local delay = retry.decide(self, err, http)
  if not delay then return finish(self, false, err, http) end
  err.retryDelay = delay
  self.retryCount = self.retryCount + 1
  local response = response_of(self, http)
  response.error = err
  local fine, listener_err = emit(self, "retry", response)
  if not fine then return finish(self, false, listener_err, http) end
  self.state = "waiting"
  self.timer = core.timer(delay, function()
    self.timer = nil
    attempt(self)
  end)
end

local function on_http(self, http)
  if self.state == "done" then return end
  self.transfer = nil
  local ok, data_or_err = core.parse_response(self.service.model, self.operation, http)
  -- customization hook: a reply that parsed may still be wrong, an error may be retryable
  if self.checkResponse then ok, data_or_err = self.checkResponse(self, ok, data_or_err, http) end
  if ok then return finish(self, true, data_or_err, http) end
  return after_failure(self, data_or_err, http)
end

local function on_transport_error(self, err)
  if self.state == "done" then return end
  self.transfer = nil
  if type(err) ~= "table" then err = make_error("NetworkingError", tostring(err), {retryable = true}) end
  err.hostname = self.hostname
  return after_failure(self, err, nil)
end

-- One attempt: credentials, sign, send. Each attempt signs anew (fresh date, refreshed keys).
attempt = function(self)
  if self.state == "done" then return end
  self.state = "credentials"
  local service = self.service
  local function send_with(credentials)
    if self.state == "done" then return end
    local http = self.httpRequest
    http.sign = credentials and service:signingOptions(credentials) or nil
    local fine, err = emit(self, "sign", self)
    if fine and self.listeners and self.listeners.send then fine, err = emit(self, "send", response_of(self, nil)) end
    if not fine then return finish(self, false, err, nil) end
    self.state = "sending"
    local listeners = self.listeners
    if listeners and listeners.httpUploadProgress and not http.onUploadProgress then
      http.onUploadProgress = function(loaded, total)
        emit(self, "httpUploadProgress", {loaded = loaded, total = total}, self)
      end
    end
    if listeners and listeners.httpDownloadProgress and not http.onDownloadProgress then
      http.onDownloadProgress = function(loaded, total)
        emit(self, "httpDownloadProgress", {loaded = loaded, total = total}, self)
      end
    end
    local ok, p, transfer = pcall(core.http, http)
    if not ok then
      return finish(self, false, type(p) == "table" and p or make_error("InvalidParameter", tostring(p)), nil)
    end
    self.transfer = transfer
    p:next(function(response) on_http(self, response) end, function(e) on_transport_error(self, e) end)
  end
  if self.httpRequest.authtype == "none" then return send_with(nil) end
  local ok, creds, creds_promise = pcall(service.cachedCredentials, service)
  if not ok then return finish(self, false, creds, nil) end
  if creds then return send_with(creds) end
  creds_promise:next(send_with, function(err)
    if self.state == "done" then return end
    if type(err) ~= "table" then err = make_error("CredentialsError", tostring(err)) end
    finish(self, false, err, nil)
  end)
end

local function start(self)
  if self.outcome then return end
  self.outcome = pending()
  if self.aborted then
    settle(self.outcome, false, make_error("RequestAbortedError", "Request aborted by user", {retryable = false}))
    return
  end
  local service = self.service
  if service.config.logger then self.startClock = core.now() end
  local fine, err = emit(self, "validate", self)
  if fine then
    local ok, http = pcall(service.buildHttpRequest, service, self.operation, self.params)
    if ok then
      self.httpRequest = http
      self.hostname = http.hostname
      fine, err = emit(self, "build", self)
    else
      fine, err = false, http
    end
  end
  if not fine then
    if type(err) ~= "table" then err = make_error("InvalidParameter", tostring(err)) end
    return finish(self, false, err, nil)
  end
  attempt(self)
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
    self.outcome:next(function(data) callback(nil, data) end, function(err) callback(err, nil) end)
  else
    core.mark_handled(self.outcome)
  end
  return self
end

-- request:abort(): settles the call at once with RequestAbortedError, in whatever phase it is.
function Request:abort()
  if self.state == "done" then return self end
  self.aborted = true
  if not self.outcome then return self end
  if self.transfer then self.transfer:abort() end
  if self.timer then self.timer:cancel() end
  finish(self, false, make_error("RequestAbortedError", "Request aborted by user", {retryable = false}), nil)
  return self
end

function Request:__tostring()
  return "AWS.Request(" .. tostring(self.service.serviceIdentifier) .. "." .. self.operation .. ", " .. self.state .. ")"
end

return Request
