-- Paging, from the models' *.paginators.json: the JavaScript SDK v2's page API and a Lua iterator.
--
--   request:isPageable()                 -> true when the operation has a paginator
--   request:eachPage(fn)                 fn(err, data[, done]) per page, then fn(nil, nil) once;
--                                        returning false stops; with a third parameter `done`, the
--                                        next page is fetched only when done() is called
--   request:eachItem(fn)                 fn(err, item, resultKey) per item of the result key(s), then
--                                        fn(nil, nil); returning false stops
--   response:hasNextPage()               -> true / false (nil when the operation is not pageable)
--   response:nextPage([callback])        -> the Request of the next page (sent with a callback), or nil
--   client:paginate(op, params[, options]) -> a page iterator for a generic for, see Pager below;
--                                        options: MaxItems (bound for items() and all()), PageSize
--                                        (sets the paginator's limit key), prefetch (fetch one page ahead)
--
-- A next page exists when more_results (if any) holds and some output token is present; a token
-- that comes back as it was sent ends the paging (CloudWatch Logs repeats its last token).
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local jmespath = require "awspromise.jmespath"
local models = require "awspromise.models"

local make_error = Promise.make_error
local NULL = core.null

local paginator = {}

local function list_of(v)
  if v == nil then return {} end
  if type(v) == "table" then return v end
  return {v}
end

-- One entry of a paginators.json "pagination" map, its expressions compiled.
function paginator.compile(definition)
  local outputs = {}
  for i, expression in ipairs(list_of(definition.output_token)) do outputs[i] = jmespath.compile(expression) end
  local result_keys, results = list_of(definition.result_key), {}
  for i, expression in ipairs(result_keys) do results[i] = jmespath.compile(expression) end
  local inputs = list_of(definition.input_token)
  if #inputs ~= #outputs then
    error(make_error("ModelError", "a paginator needs as many input tokens as output tokens"), 2)
  end
  return {
    inputTokens = inputs,
    outputTokens = outputs,
    moreResults = definition.more_results and jmespath.compile(definition.more_results),
    resultKeys = result_keys,
    results = results,
    limitKey = definition.limit_key,
  }
end

-- Compiled paginators per model (weak: a model that goes away takes its entry along).
local compiled = setmetatable({}, {__mode = "k"})

local function config_for(service, operation)
  local per_model = compiled[service.model]
  if not per_model then
    per_model = {}
    compiled[service.model] = per_model
  end
  local config = per_model[operation]
  if config == nil then
    local definition = models.definitions(service, "paginators")[operation]
    config = definition and paginator.compile(definition) or false
    per_model[operation] = config
  end
  return config or nil
end
paginator.config_for = config_for

local function not_pageable(operation)
  return make_error("InvalidParameter", "No pagination configuration for " .. tostring(operation))
end

local function present(v)
  return v ~= nil and v ~= NULL and v ~= ""
end

-- The input tokens of the page after `data` (requested with `params`), or nil at the end.
function paginator.next_tokens(config, data, params)
  if data == nil then return nil end
  if config.moreResults and not jmespath.truthy(config.moreResults(data)) then return nil end
  local tokens, any, repeated = {}, false, true
  for i, output in ipairs(config.outputTokens) do
    local token = output(data)
    if present(token) then
      tokens[i] = token
      any = true
    end
    if not jmespath.equal(tokens[i], params[config.inputTokens[i]]) then repeated = false end
  end
  if not any or repeated then return nil end
  return tokens
end

-- The items of one page: a list of items and the list of the result key each came from.
function paginator.page_items(config, data)
  local items, keys = {}, {}
  for i, result in ipairs(config.results) do
    local value = result(data)
    local key = config.resultKeys[i]
    if type(value) == "table" and (value[1] ~= nil or next(value) == nil) then
      for j = 1, #value do
        items[#items + 1], keys[#keys + 1] = value[j], key
      end
    elseif present(value) then
      items[#items + 1], keys[#keys + 1] = value, key
    end
  end
  return items, keys
end

local function copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

local function next_page_params(config, params, tokens)
  local next_params = copy(params)
  for i, name in ipairs(config.inputTokens) do next_params[name] = tokens[i] end
  return next_params
end

-- The model's name of an operation given as a client method name ("listObjectsV2").
local function operation_named(service, name)
  if type(name) ~= "string" or name == "" then
    error(make_error("InvalidParameter", "expected an operation name, got " .. type(name)), 3)
  end
  if service.model:operation(name) then return name end
  local upper = name:sub(1, 1):upper() .. name:sub(2)
  if service.model:operation(upper) then return upper end
  error(make_error("InvalidParameter", tostring(service.serviceIdentifier) .. " has no operation named '" .. name .. "'"), 3)
end
paginator.operation_named = operation_named

local function check_callable(fn, what)
  if not Promise.callable(fn) then
    error(make_error("InvalidParameter", what .. ": the callback must be callable"), 3)
  end
end

-- ---------------------------------------------------------------- Response and Request methods

local Response, Request = {}, {}

-- nil when the operation is not pageable, as in the JavaScript SDK.
function Response:hasNextPage()
  local request = self.request
  local config = config_for(request.service, request.operation)
  if not config then return nil end
  local tokens = self.nextPageTokens
  if tokens == nil then
    tokens = not self.error and paginator.next_tokens(config, self.data, request.params) or false
    self.nextPageTokens = tokens
  end
  return tokens ~= false
end

function Response:nextPage(callback)
  if callback ~= nil then check_callable(callback, "response:nextPage") end
  local request = self.request
  local has_next = self:hasNextPage()
  if has_next == nil then
    local err = not_pageable(request.operation)
    if callback then return callback(err, nil) end
    error(err, 2)
  end
  if not has_next then
    if callback then callback(nil, nil) end
    return nil
  end
  local config = config_for(request.service, request.operation)
  local params = next_page_params(config, request.params, self.nextPageTokens)
  return request.service:makeRequest(request.operation, params, callback)
end

function Request:isPageable()
  return config_for(self.service, self.operation) ~= nil
end

-- A callback that names a third parameter (done) decides when the next page comes.
local function wants_done(fn)
  local info = type(fn) == "function" and debug.getinfo(fn, "u")
  return info and info.nparams >= 3 or false
end

local function ignore() end

function Request:eachPage(callback)
  check_callable(callback, "request:eachPage")
  local explicit = wants_done(callback)
  local function deliver(request)
    request:send(function(err, data)
      local response = request.response
      local called = false
      local function done(result)
        if called or result == false then return end
        called = true
        local following = response:nextPage()
        if following then return deliver(following) end
        callback(nil, nil, ignore)
      end
      if explicit then
        callback(err, data, done)
      else
        done(callback(err, data))
      end
    end)
  end
  deliver(self)
  return self
end

function Request:eachItem(callback)
  check_callable(callback, "request:eachItem")
  local config = config_for(self.service, self.operation)
  if not config then error(not_pageable(self.operation), 2) end
  return self:eachPage(function(err, data)
    if err then return callback(err, nil) end
    if data == nil then return callback(nil, nil) end
    local items, keys = paginator.page_items(config, data)
    for i = 1, #items do
      if callback(nil, items[i], keys[i]) == false then return false end
    end
  end)
end

-- ---------------------------------------------------------------- the Lua iterator

-- client:paginate(op, params[, options]) returns the pager, nil, nil, the pager: in
--   for page in client:paginate(op, params) do ... end
-- the pager is also the for's closing value, so leaving the loop by break, return or error aborts
-- the page in flight. Each call fetches the next page (awaiting it: inside AWS.async the coroutine
-- waits, on the main thread the loop runs); nil at the end; a failed page raises its error.
-- pager:items() iterates items (item, resultKey) the same way; pager:all() is a promise of the list
-- of every item. A pager walks its pages once.
local Pager = {}
Pager.__index = Pager

-- A promise of the configured dependency is adopted first, so that it can be awaited.
local function await(p)
  return Promise.resolve(p):await()
end

local function release(self)
  self.finished = true
  for _, field in ipairs {"current", "ahead"} do
    local request = self[field]
    self[field] = nil
    if request then request:abort() end
  end
end

Pager.__close = release

function Pager:__call()
  if self.finished then return nil end
  local request = self.ahead or self.following or self.service:makeRequest(self.operation, self.params)
  self.ahead, self.following, self.current = nil, nil, request
  request:send()
  local ok, data = pcall(await, request:promise())
  self.current = nil
  if not ok then
    self.finished = true
    error(data, 0)
  end
  local following = request.response:nextPage()
  if not following then
    self.finished = true
  elseif self.prefetch then
    following:send()
    self.ahead = following
  else
    self.following = following
  end
  return data
end

function Pager:items()
  local items, keys, i, count = {}, {}, 0, 0
  local limit = self.maxItems
  local function next_item()
    while true do
      if limit and count >= limit then
        release(self)
        return nil
      end
      if i < #items then
        i, count = i + 1, count + 1
        return items[i], keys[i]
      end
      local page = self()
      if page == nil then return nil end
      items, keys = paginator.page_items(self.config, page)
      i = 0
    end
  end
  return next_item, nil, nil, self
end

function Pager:all()
  return Promise.async(function()
    local list = {}
    for item in self:items() do list[#list + 1] = item end
    return list
  end)
end

function Pager:__tostring()
  return "AWS paginator(" .. tostring(self.service.serviceIdentifier) .. "." .. self.operation .. ")"
end

local function check_options(options)
  if options == nil then return {} end
  if type(options) ~= "table" then
    error(make_error("InvalidParameter", "paginate: options must be a table, got " .. type(options)), 3)
  end
  for _, name in ipairs {"MaxItems", "PageSize"} do
    local n = options[name]
    if n ~= nil and (math.type(n) ~= "integer" or n < 1) then
      error(make_error("InvalidParameter", "paginate: options." .. name .. " must be a positive integer"), 3)
    end
  end
  return options
end

local Service = {}

function Service:paginate(operation, params, options)
  operation = operation_named(self, operation)
  if params ~= nil and type(params) ~= "table" then
    error(make_error("InvalidParameterType", "paginate: params must be a table, got " .. type(params)), 2)
  end
  options = check_options(options)
  local config = config_for(self, operation)
  if not config then error(not_pageable(operation), 2) end
  params = copy(params)
  if options.PageSize then
    if not config.limitKey then
      error(make_error("InvalidParameter", "paginate: " .. operation .. " has no page size (limit key)"), 2)
    end
    params[config.limitKey] = options.PageSize
  end
  local pager = setmetatable({service = self, operation = operation, params = params, config = config,
    maxItems = options.MaxItems, prefetch = options.prefetch and true or false}, Pager)
  return pager, nil, nil, pager
end

function paginator.install(service_methods, request_methods)
  for name, fn in pairs(Service) do service_methods[name] = fn end
  for name, fn in pairs(Request) do request_methods[name] = fn end
  for name, fn in pairs(Response) do request_methods.Response[name] = fn end
end

paginator.Pager = Pager

return paginator
