-- Waiters, from the models' *.waiters2.json (version 2): client:waitFor(state, params[, callback]).
--
-- The result is a Request (AWS.Request's methods: promise, send, abort, on) that calls the waiter's
-- operation until an acceptor says success or failure, at most maxAttempts times, `delay` seconds
-- apart (a timer on the loop). params["$waiter"] = {delay = seconds, maxAttempts = n} overrides both,
-- as in the JavaScript SDK v2. It fulfils with the data of the successful attempt; it rejects with
-- ResourceNotReady (the JavaScript SDK's code) when an acceptor says failure, when an attempt fails in
-- a way no acceptor expects, or when the attempts run out. That error carries the last attempt:
-- err.originalError (its error, if any), err.lastResponse (its response), err.statusCode.
--
-- Each attempt is an ordinary request (with its own retries for throttling and the like). The
-- listeners of the waiter's request for validate, build, sign, send, httpHeaders, httpData and the
-- progress events are given to every attempt; retry fires between attempts; success, error and
-- complete fire once, for the waiter.
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local jmespath = require "awspromise.jmespath"
local models = require "awspromise.models"
local paginator = require "awspromise.paginator"

local waiter = {}

local make_error = Promise.make_error

local PER_ATTEMPT = {
  "validate", "build", "sign", "send", "httpHeaders", "httpData", "httpUploadProgress", "httpDownloadProgress",
}

local function bad_model(name, message)
  error(make_error("ModelError", "waiter " .. name .. ": " .. message), 0)
end

-- Acceptor matchers: (acceptor, response) -> true when the acceptor applies.
local function path_results(acceptor, response)
  local ok, value = pcall(acceptor.expression, response.data)
  if not ok then return nil end
  return value
end

local MATCHERS = {
  path = function(acceptor, response)
    if response.data == nil then return false end
    return jmespath.equal(path_results(acceptor, response), acceptor.expected)
  end,
  pathAll = function(acceptor, response)
    if response.data == nil then return false end
    local values = path_results(acceptor, response)
    if type(values) ~= "table" then values = {values} end
    if #values == 0 then return false end
    for i = 1, #values do
      if not jmespath.equal(values[i], acceptor.expected) then return false end
    end
    return true
  end,
  pathAny = function(acceptor, response)
    if response.data == nil then return false end
    local values = path_results(acceptor, response)
    if type(values) ~= "table" then values = {values} end
    for i = 1, #values do
      if jmespath.equal(values[i], acceptor.expected) then return true end
    end
    return false
  end,
  status = function(acceptor, response)
    return response.statusCode == acceptor.expected
  end,
  error = function(acceptor, response)
    local err = response.error
    if type(acceptor.expected) == "string" then
      return type(err) == "table" and err.code == acceptor.expected
    end
    return acceptor.expected == (err ~= nil)
  end,
}

local STATES = {success = true, failure = true, retry = true}

-- One waiter definition of a waiters2.json, checked and its expressions compiled.
function waiter.compile(name, definition)
  if type(definition) ~= "table" then bad_model(name, "not an object") end
  if type(definition.operation) ~= "string" then bad_model(name, "no operation") end
  if type(definition.acceptors) ~= "table" or #definition.acceptors == 0 then bad_model(name, "no acceptors") end
  local acceptors = {}
  for i, a in ipairs(definition.acceptors) do
    if not MATCHERS[a.matcher] then bad_model(name, "unknown matcher '" .. tostring(a.matcher) .. "'") end
    if not STATES[a.state] then bad_model(name, "unknown state '" .. tostring(a.state) .. "'") end
    local expression
    if a.matcher:match("^path") then
      if type(a.argument) ~= "string" then bad_model(name, "a " .. a.matcher .. " acceptor needs an argument") end
      expression = jmespath.compile(a.argument)
    end
    acceptors[i] = {matcher = MATCHERS[a.matcher], state = a.state, expected = a.expected, expression = expression}
  end
  return {
    name = name,
    operation = definition.operation,
    delay = definition.delay or 0,
    maxAttempts = definition.maxAttempts or 1,
    acceptors = acceptors,
  }
end

local compiled = setmetatable({}, {__mode = "k"})

-- A waiter of the client's model by its name, "bucketExists" or "BucketExists".
local function definition_for(service, state)
  if type(state) ~= "string" or state == "" then
    error(make_error("StateNotFoundError", "State " .. tostring(state) .. " not found."), 3)
  end
  local per_model = compiled[service.model]
  if not per_model then
    per_model = {}
    compiled[service.model] = per_model
  end
  local upper = state:sub(1, 1):upper() .. state:sub(2)
  local found = per_model[upper]
  if found then return found end
  local definition = models.definitions(service, "waiters")[upper]
  if not definition then
    error(make_error("StateNotFoundError", "State " .. state .. " not found."), 3)
  end
  found = waiter.compile(upper, definition)
  per_model[upper] = found
  return found
end

-- The first acceptor that matches decides; none: failure after an error, else retry.
local function verdict(config, response)
  for _, acceptor in ipairs(config.acceptors) do
    if acceptor.matcher(acceptor, response) then return acceptor.state end
  end
  return response.error and "failure" or "retry"
end

-- ---------------------------------------------------------------- the waiter's Request

local Waiter = {}
Waiter.__index = Waiter

-- As for any request, a listener that raises before completion makes its error the outcome.
local function emit(self, event, ...)
  local list = self.listeners and self.listeners[event]
  for i = 1, list and #list or 0 do
    local ok, err = pcall(list[i], ...)
    if not ok then return false, err end
  end
  return true
end

-- The response of the waiter: the last attempt's, as the waiter's own.
local function own_response(self, attempt_response, ok, value)
  local response = setmetatable({}, getmetatable(attempt_response))
  for k, v in pairs(attempt_response) do response[k] = v end
  response.request, response.retryCount = self, self.retryCount
  response.data, response.error = nil, nil
  if ok then response.data = value else response.error = value end
  return response
end

local function finish(self, ok, value, attempt_response)
  self.state = "done"
  self.transfer, self.timer = nil, nil
  local response = own_response(self, attempt_response, ok, value)
  self.response = response
  if ok then
    local fine, err = emit(self, "success", response)
    if not fine then ok, value, response.data, response.error = false, err, nil, err end
  end
  if not ok then emit(self, "error", value, response) end
  emit(self, "complete", response)
  core.settle(self.outcome, ok, value)
end

local function not_ready(self, response)
  local last = response.error
  return make_error("ResourceNotReady", "Resource is not in the state " .. self.waiterState, {
    retryable = false,
    originalError = last,
    lastResponse = response,
    statusCode = response.statusCode,
    requestId = response.requestId,
    retryCount = self.retryCount,
    time = os.time(),
  })
end

local attempt

local function judge(self, request)
  if self.state == "done" then return end
  self.transfer = nil
  local config = self.config
  local response = request.response
  local state = verdict(config, response)
  if state == "success" then return finish(self, true, response.data or {}, response) end
  if state == "failure" or self.attempts >= self.maxAttempts then
    return finish(self, false, not_ready(self, response), response)
  end
  self.retryCount = self.retryCount + 1
  local fine, err = emit(self, "retry", own_response(self, response, false, not_ready(self, response)))
  if not fine then return finish(self, false, err, response) end
  self.state = "waiting"
  self.timer = core.timer(self.delay * 1000, function()
    self.timer = nil
    attempt(self)
  end)
end

attempt = function(self)
  if self.state == "done" then return end
  self.attempts = self.attempts + 1
  self.state = "sending"
  local ok, request = pcall(self.service.makeRequest, self.service, self.operation, self.params)
  if not ok then
    local err = type(request) == "table" and request or make_error("InvalidParameter", tostring(request))
    return finish(self, false, err, setmetatable({error = err, request = self}, self.Response))
  end
  for _, event in ipairs(PER_ATTEMPT) do
    local list = self.listeners and self.listeners[event]
    for i = 1, list and #list or 0 do request:on(event, list[i]) end
  end
  self.transfer = request
  request:send(function() judge(self, request) end)
end

local function begin(self)
  if self.outcome then return end
  self.outcome = core.pending()
  if self.aborted then
    core.settle(self.outcome, false, make_error("RequestAbortedError", "Request aborted by user", {retryable = false}))
    return
  end
  attempt(self)
end

-- promise() and send() are AWS.Request's: they see the outcome begin() made.
function Waiter:promise()
  begin(self)
  return self.Request.promise(self)
end

function Waiter:send(callback)
  begin(self)
  return self.Request.send(self, callback)
end

-- Stops the attempt in flight or the timer between attempts; settles at once.
function Waiter:abort()
  if self.state == "done" then return self end
  if not self.outcome then
    self.aborted = true -- begin() settles the outcome when it comes
    return self
  end
  local transfer, timer = self.transfer, self.timer
  local err = make_error("RequestAbortedError", "Request aborted by user", {retryable = false})
  finish(self, false, err, setmetatable({error = err, request = self}, self.Response))
  if timer then timer:cancel() end
  if transfer then transfer:abort() end
  return self
end

function Waiter:__tostring()
  return "AWS.Request(" .. tostring(self.service.serviceIdentifier) .. ".waitFor " .. self.waiterState ..
    ", " .. self.state .. ")"
end

local function waiter_options(params, config)
  local delay, max_attempts = config.delay, config.maxAttempts
  local given = params["$waiter"]
  if given == nil then return params, delay, max_attempts end
  if type(given) ~= "table" then
    error(make_error("InvalidParameter", "params.$waiter must be a table {delay =, maxAttempts =}"), 4)
  end
  if given.delay ~= nil then
    if type(given.delay) ~= "number" or given.delay < 0 then
      error(make_error("InvalidParameter", "$waiter.delay must be a number of seconds >= 0"), 4)
    end
    delay = given.delay
  end
  if given.maxAttempts ~= nil then
    if math.type(given.maxAttempts) ~= "integer" or given.maxAttempts < 1 then
      error(make_error("InvalidParameter", "$waiter.maxAttempts must be a positive integer"), 4)
    end
    max_attempts = given.maxAttempts
  end
  local copy = {}
  for k, v in pairs(params) do
    if k ~= "$waiter" then copy[k] = v end
  end
  return copy, delay, max_attempts
end

local Service = {}

-- client:waitFor(state, params[, callback]) -> a Request (sent at once when a callback is given).
function Service:waitFor(state, params, callback)
  local config = definition_for(self, state)
  if Promise.callable(params) and callback == nil then params, callback = nil, params end
  if params ~= nil and type(params) ~= "table" then
    error(make_error("InvalidParameterType", "waitFor: params must be a table, got " .. type(params)), 2)
  end
  local delay, max_attempts
  params, delay, max_attempts = waiter_options(params or {}, config)
  -- a Request's fields, then the waiter's own
  local request = Waiter.Request.new(self, paginator.operation_named(self, config.operation), params)
  request.attempts, request.waiterState, request.config = 0, state, config
  request.delay, request.maxAttempts = delay, max_attempts
  setmetatable(request, Waiter)
  if callback ~= nil then request:send(callback) end
  return request
end

function waiter.install(service_methods, request_class)
  setmetatable(Waiter, {__index = request_class})
  Waiter.Request = request_class
  for name, fn in pairs(Service) do service_methods[name] = fn end
end

waiter.definition_for = definition_for
waiter.verdict = verdict

return waiter
