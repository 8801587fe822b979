-- Streaming request bodies: a streaming blob payload (putObject's and uploadPart's Body) given
-- as a file handle or a reader function (function() return chunk_or_nil end) is not gathered
-- into a string: each attempt hands core.http a fresh opts.bodyReader, with opts.bodyLength
-- when the size is known (ContentLength, or a seekable file's size), else the body goes chunked.
--
-- Retries: a file is read from where it stood when the request began and is rewound for every
-- attempt. A reader function cannot be replayed: once it handed out a byte, a failed attempt is
-- final (the error says so).
local Promise = require "awspromise.promise"

local make_error = Promise.make_error

local CHUNK = 65536
local NOT_REPLAYED = " (not retried: the request Body is a reader function that already handed out bytes," ..
  " and a reader cannot be replayed)"

local M = {}

local Source = {}
Source.__index = Source

local function header_length(headers)
  for name, value in pairs(headers or {}) do
    if type(name) == "string" and name:lower() == "content-length" then return math.tointeger(tonumber(value)) end
  end
  return nil
end

-- Takes a non-string http.body (a file handle or a reader) off the request table into
-- request.bodySource; anything else stays (the engine refuses it, naming the option).
function M.adopt(request, http)
  local body = http.body
  local source
  if io.type(body) == "file" then
    local start = body:seek()
    local size = start and body:seek("end")
    if size then body:seek("set", start) end
    source = {file = body, start = start, length = size and size - start}
  elseif type(body) == "function" then
    source = {reader = body, consumed = false}
  else
    return
  end
  source.length = header_length(http.headers) or source.length
  http.body = nil
  request.bodySource = setmetatable(source, Source)
end

local function file_reader(file)
  return function()
    local chunk, err = file:read(CHUNK)
    if chunk == nil and err then error(make_error("ReadError", "reading the request Body file failed: " .. err), 0) end
    return chunk
  end
end

-- Sets the attempt's opts.bodyReader and opts.bodyLength.
function Source:attach(http)
  local file = self.file
  if file then
    if self.start then file:seek("set", self.start) end
    http.bodyReader = file_reader(file)
  else
    local reader = self.reader
    http.bodyReader = function()
      local chunk = reader()
      if chunk ~= nil and chunk ~= "" then self.consumed = true end
      return chunk
    end
  end
  http.bodyLength = self.length
end

-- Whether a failed attempt may be sent again; when not, err says why.
function Source:replayable(err)
  if self.file and self.start then return true end
  if self.file == nil and not self.consumed then return true end
  if type(err) == "table" then
    err.retryable = false
    err.message = tostring(err.message or err.code) ..
      (self.file and " (not retried: the request Body file cannot seek back to its start)" or NOT_REPLAYED)
  end
  return false
end

return M
