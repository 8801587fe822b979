-- s3:upload(params [, options] [, callback]): JS v2's AWS.S3.ManagedUpload. A body that fits in
-- one part is one putObject; a larger one is createMultipartUpload, uploadPart (up to queueSize
-- at a time, each retried by the client's policy), completeMultipartUpload; a failure or an
-- abort ends with abortMultipartUpload (unless leavePartsOnError), so no parts are left behind.
--
--   local up = s3:upload({Bucket =, Key =, Body = string | file handle | reader function, ...},
--                        {partSize = 5 MiB, queueSize = 4, leavePartsOnError = false,
--                         tags = {{Key =, Value =}, ...}})
--   up:on("httpUploadProgress", function(progress) end)  -- {loaded =, total =, part =, key =}
--   up:promise() -> promise of {Location =, Bucket =, Key =, ETag =, ...}
--   up:send(function(err, data) end)
--   up:abort()                                            -- rejects with RequestAbortedError
--
-- The body is read one part at a time as a slot frees, so memory stays about partSize × queueSize
-- (plus one part read ahead to tell a single put from a multipart one). A reader function
-- (`function() return chunk_or_nil end`) has no known length: parts go until it returns nil, and
-- progress events carry total = nil until then.
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local util = require "awspromise.util"

local make_error = Promise.make_error

local MIN_PART_SIZE = 5 * 1024 * 1024 -- S3's smallest part but the last
local MAX_PARTS = 10000 -- S3's most parts in one upload

local ManagedUpload = {}
ManagedUpload.__index = ManagedUpload

local function invalid(message)
  error(make_error("InvalidParameter", message), 3)
end

-- ---------------------------------------------------------------- body sources

-- A source is read(size) -> up to size bytes, or nil at the end; total is the length when known.

local function string_source(body)
  local at = 1
  return {total = #body, read = function(size)
    if at > #body then return nil end
    local piece = body:sub(at, at + size - 1)
    at = at + size
    return piece
  end}
end

local function file_source(handle)
  local total
  local here = handle:seek("cur")
  local size_at_end = here and handle:seek("end")
  if size_at_end then
    handle:seek("set", here)
    total = size_at_end - here
  end
  return {total = total, read = function(size)
    local piece, err = handle:read(size)
    if piece == nil and err then error(make_error("ReadError", "upload: reading the Body file failed: " .. err), 0) end
    return piece
  end}
end

local function reader_source(reader)
  local pending, buffered, ended = {}, 0, false
  return {read = function(size)
    while buffered < size and not ended do
      local chunk = reader()
      if chunk == nil then
        ended = true
      elseif type(chunk) ~= "string" then
        error(make_error("InvalidParameterType", "upload: the Body reader returned a " .. type(chunk) ..
          ", expected a string or nil"), 0)
      elseif chunk ~= "" then
        pending[#pending + 1] = chunk
        buffered = buffered + #chunk
      end
    end
    if buffered == 0 then return nil end
    local all = table.concat(pending)
    local piece, rest = all:sub(1, size), all:sub(size + 1)
    pending = rest ~= "" and {rest} or {}
    buffered = #rest
    return piece
  end}
end

local function source_of(body)
  if body == nil then return string_source("") end
  if type(body) == "string" then return string_source(body) end
  if io.type(body) == "file" then return file_source(body) end
  if Promise.callable(body) then return reader_source(body) end
  if io.type(body) == "closed file" then invalid("upload: params.Body is a closed file") end
  invalid("upload: params.Body must be a string, a file handle or a reader function, got " .. type(body))
end

-- ---------------------------------------------------------------- options

local function positive_integer(options, name, default)
  local value = options[name]
  if value == nil then return default end
  if math.type(value) ~= "integer" and not (type(value) == "number" and value == math.floor(value)) or value < 1 then
    invalid("upload: options." .. name .. " must be a positive integer, got " .. tostring(value))
  end
  return math.tointeger(value)
end

-- Tags as the Tagging header of a putObject ("k1=v1&k2=v2", URL-encoded).
local function tagging_header(tags)
  local pairs_ = {}
  for _, tag in ipairs(tags) do
    pairs_[#pairs_ + 1] = util.uriEscape(tag.Key) .. "=" .. util.uriEscape(tag.Value)
  end
  return table.concat(pairs_, "&")
end

local function check_tags(tags)
  if tags == nil then return nil end
  if type(tags) ~= "table" then invalid("upload: options.tags must be a list of {Key =, Value =}") end
  for i, tag in ipairs(tags) do
    if type(tag) ~= "table" or type(tag.Key) ~= "string" or type(tag.Value) ~= "string" then
      invalid("upload: options.tags[" .. i .. "] must be {Key = string, Value = string}")
    end
  end
  return tags
end

-- ---------------------------------------------------------------- the upload

-- The members of params that operation takes (Body and the others stay behind).
local function params_for(service, operation, params, extra)
  local members = service.model:operation(operation).input or {}
  local out = {}
  for k, v in pairs(params) do
    if k ~= "Body" and members[k] ~= nil then out[k] = v end
  end
  for k, v in pairs(extra or {}) do out[k] = v end
  return out
end

-- The object's URL: the request's without its query string.
local function location_of(request)
  local http = request.httpRequest
  return http and (http.url:gsub("%?.*$", "")) or nil
end

local function progress(self, part, loaded)
  local was = self.loadedByPart[part] or 0
  if loaded <= was then return end
  self.loadedByPart[part] = loaded
  self.loaded = self.loaded + (loaded - was)
  local listeners = self.listeners
  for i = 1, #listeners do
    local ok, err = pcall(listeners[i], {loaded = self.loaded, total = self.total, part = part, key = self.params.Key})
    if not ok then core.report_error(err, "'httpUploadProgress' listener") end
  end
end

local function track(self, request, part, size)
  self.requests[request] = true
  if #self.listeners > 0 then
    request:on("httpUploadProgress", function(p) progress(self, part, math.min(p.loaded or 0, size)) end)
  end
  return request:promise():next(function(data)
    self.requests[request] = nil
    progress(self, part, size)
    return data
  end, function(err)
    self.requests[request] = nil
    error(err, 0)
  end)
end

local function settle_outcome(self, ok, value)
  if self.settled then return end
  self.settled = true
  core.settle(self.outcome, ok, value)
end

local function stop_requests(self)
  local running = self.requests
  self.requests = {}
  for request in pairs(running) do request:abort() end
end

-- Settles with the failure, after abortMultipartUpload when an upload id is known (and the
-- parts are not to be kept): the caller sees the rejection once no parts are left.
local function clean_up_then_settle(self)
  local err = self.failure
  if not self.uploadId or self.leavePartsOnError then return settle_outcome(self, false, err) end
  local service = self.service
  local function settle() settle_outcome(self, false, err) end
  service:abortMultipartUpload(params_for(service, "AbortMultipartUpload", self.params, {UploadId = self.uploadId}))
    :promise():next(settle, settle)
end

-- A failure ends everything: the parts in flight are aborted. A createMultipartUpload in flight
-- is let finish, since the server may create the upload anyway; its reply cleans up.
local function fail(self, err)
  if self.failure then return end
  self.failure = err
  stop_requests(self)
  if self.creating then return end
  clean_up_then_settle(self)
end

local function guarded_read(self)
  local ok, piece = pcall(self.source.read, self.partSize)
  if ok then return true, piece end
  fail(self, type(piece) == "table" and piece or make_error("ReadError", tostring(piece)))
  return false
end

local function finish_single(self, body)
  local service, params = self.service, self.params
  local extra = {Body = body}
  if self.tags then extra.Tagging = tagging_header(self.tags) end
  self.total = self.total or #body
  local request = service:putObject(params_for(service, "PutObject", params, extra))
  track(self, request, 1, #body):next(function(data)
    data.Location, data.Bucket, data.Key = location_of(request), params.Bucket, params.Key
    settle_outcome(self, true, data)
  end, function(err) fail(self, err) end)
end

local function complete(self)
  local service, params = self.service, self.params
  local parts = {}
  for n = 1, self.partCount do parts[n] = {ETag = self.etags[n], PartNumber = n} end
  local request = service:completeMultipartUpload(params_for(service, "CompleteMultipartUpload", params,
    {UploadId = self.uploadId, MultipartUpload = {Parts = parts}}))
  self.requests[request] = true
  request:promise():next(function(data)
    self.requests[request] = nil
    if not self.tags then return data end
    return service:putObjectTagging({Bucket = params.Bucket, Key = params.Key, Tagging = {TagSet = self.tags}})
      :promise():next(function() return data end)
  end):next(function(data)
    data.Location = data.Location or location_of(request)
    data.Bucket, data.Key = data.Bucket or params.Bucket, data.Key or params.Key
    settle_outcome(self, true, data)
  end, function(err) fail(self, err) end)
end

local fill_queue

local function send_part(self, number, body)
  local service = self.service
  self.inFlight = self.inFlight + 1
  local request = service:uploadPart(params_for(service, "UploadPart", self.params,
    {Body = body, PartNumber = number, UploadId = self.uploadId}))
  track(self, request, number, #body):next(function(data)
    self.inFlight = self.inFlight - 1
    self.etags[number] = data.ETag
    fill_queue(self)
  end, function(err) fail(self, err) end)
end

-- Starts parts while slots are free and the body lasts; completes when the last is in.
fill_queue = function(self)
  if self.failure or self.settled then return end
  while self.inFlight < self.queueSize and not self.bodyEnded do
    local body = table.remove(self.readAhead, 1)
    if body == nil then
      local ok, piece = guarded_read(self)
      if not ok then return end
      body = piece
    end
    if body == nil then
      self.bodyEnded = true
      self.total = self.total or self.queuedBytes
    else
      self.partCount = self.partCount + 1
      self.queuedBytes = self.queuedBytes + #body
      send_part(self, self.partCount, body)
    end
  end
  if self.bodyEnded and self.inFlight == 0 then complete(self) end
end

local function start_multipart(self, first, second)
  local service, params = self.service, self.params
  self.readAhead = {first, second}
  local request = service:createMultipartUpload(params_for(service, "CreateMultipartUpload", params))
  self.creating = request
  request:promise():next(function(data)
    self.creating = false
    self.uploadId = data.UploadId
    if self.failure then return clean_up_then_settle(self) end
    fill_queue(self)
  end, function(err)
    self.creating = false
    if self.failure then return settle_outcome(self, false, self.failure) end
    fail(self, err)
  end)
end

local function begin(self)
  local ok, first = guarded_read(self)
  if not ok then return end
  local second
  if not (self.total and self.total <= self.partSize) then
    ok, second = guarded_read(self)
    if not ok then return end
  end
  if second == nil then return finish_single(self, first or "") end
  start_multipart(self, first, second)
end

local function start(self)
  if self.outcome then return end
  self.outcome = core.pending()
  if self.failure then return settle_outcome(self, false, self.failure) end
  begin(self)
end

-- The outcome, in the promise library of AWS.config.setPromisesDependency when one is set.
function ManagedUpload:promise()
  if not self.userPromise then
    start(self)
    local config, outcome = self.service.globalConfig, self.outcome
    self.userPromise = config.getPromisesDependency() == nil and outcome
      or config.makePromise(function(resolve, reject) outcome:next(resolve, reject) end)
  end
  return self.userPromise
end

-- callback(err, data) once the upload is done; what the callback raises goes to onUncaughtError.
function ManagedUpload:send(callback)
  if callback ~= nil and not Promise.callable(callback) then invalid("upload:send: the callback must be callable") end
  start(self)
  local outcome = self.outcome
  if callback == nil then
    core.mark_handled(outcome)
  else
    outcome:next(function(data) callback(nil, data) end, function(err) callback(err, nil) end)
      :next(nil, function(raised) core.report_error(raised, "upload:send callback") end)
  end
  return self
end

function ManagedUpload:abort()
  local err = make_error("RequestAbortedError", "Request aborted by user", {retryable = false})
  if not self.outcome then
    self.failure = err -- start() rejects at once
    return self
  end
  fail(self, err)
  return self
end

function ManagedUpload:on(event, fn)
  if event ~= "httpUploadProgress" then
    invalid("upload:on: unknown event '" .. tostring(event) .. "' (only httpUploadProgress)")
  end
  if not Promise.callable(fn) then invalid("upload:on: the listener must be callable") end
  self.listeners[#self.listeners + 1] = fn
  return self
end

function ManagedUpload:__tostring()
  return "AWS.S3.ManagedUpload(" .. tostring(self.params.Bucket) .. "/" .. tostring(self.params.Key) .. ")"
end

local upload = {MIN_PART_SIZE = MIN_PART_SIZE, MAX_PARTS = MAX_PARTS, ManagedUpload = ManagedUpload}

function upload.new(service, params, options)
  if type(params) ~= "table" then invalid("upload: params must be a table, got " .. type(params)) end
  if options ~= nil and type(options) ~= "table" then invalid("upload: options must be a table, got " .. type(options)) end
  options = options or {}
  local part_size = positive_integer(options, "partSize", MIN_PART_SIZE)
  if part_size < MIN_PART_SIZE then
    invalid("upload: options.partSize must be at least " .. MIN_PART_SIZE .. " bytes (S3's smallest part)")
  end
  local source = source_of(params.Body)
  -- S3 takes at most 10000 parts: a large known body gets larger parts.
  if source.total and source.total > part_size * MAX_PARTS then part_size = -(-source.total // MAX_PARTS) end
  return setmetatable({
    service = service, params = params, source = source, total = source.total,
    partSize = part_size, queueSize = positive_integer(options, "queueSize", 4),
    leavePartsOnError = options.leavePartsOnError == true, tags = check_tags(options.tags),
    listeners = {}, requests = {}, loadedByPart = {}, etags = {}, readAhead = {},
    loaded = 0, queuedBytes = 0, inFlight = 0, partCount = 0, bodyEnded = false,
    outcome = false, userPromise = false, settled = false, failure = false, uploadId = false,
    creating = false,
  }, ManagedUpload)
end

-- AWS.S3.ManagedUpload.new{params =, service = an S3 client, partSize =, queueSize =, ...}: JS v2's
-- `new AWS.S3.ManagedUpload(options)`.
function ManagedUpload.new(options)
  if type(options) ~= "table" or type(options.service) ~= "table" or not options.service.uploadPart then
    invalid("AWS.S3.ManagedUpload.new: options.service must be an AWS.S3 client")
  end
  return upload.new(options.service, options.params, options)
end

-- s3:upload(params [, options] [, callback]), as JS v2: with a callback the upload starts.
function upload.method(service, params, options, callback)
  if callback == nil and Promise.callable(options) then options, callback = nil, options end
  local managed = upload.new(service, params, options)
  if callback ~= nil then managed:send(callback) end
  return managed
end

return upload
