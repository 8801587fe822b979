-- An event-stream encoder for specs, written apart from the C decoder (its own CRC32 table and
-- string.pack): messages built here check the decoder against the wire format, not against itself.
local M = {}

local CRC_TABLE = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do
    if c & 1 == 1 then c = 0xEDB88320 ~ (c >> 1) else c = c >> 1 end
  end
  CRC_TABLE[i] = c
end

function M.crc32(s)
  local crc = 0xFFFFFFFF
  for i = 1, #s do
    crc = CRC_TABLE[(crc ~ s:byte(i)) & 0xff] ~ (crc >> 8)
  end
  return crc ~ 0xFFFFFFFF
end

-- One header: value is a string (type 7) unless `kind` says otherwise:
-- "true", "false", "byte", "short", "int", "long", "bytes", "timestamp" (ms), "uuid" (16 bytes).
local TYPES = {["true"] = 0, ["false"] = 1, byte = 2, short = 3, int = 4, long = 5, bytes = 6, string = 7,
  timestamp = 8, uuid = 9}
local FORMATS = {byte = ">i1", short = ">i2", int = ">i4", long = ">i8", timestamp = ">i8"}

function M.header(name, value, kind)
  kind = kind or "string"
  local out = string.pack(">s1B", name, TYPES[kind])
  if FORMATS[kind] then return out .. string.pack(FORMATS[kind], value) end
  if kind == "bytes" or kind == "string" then return out .. string.pack(">s2", value) end
  if kind == "uuid" then return out .. value end
  return out
end

-- message(headers, payload): headers is a list of {name, value[, kind]} or a preencoded string.
function M.message(headers, payload)
  local h = headers
  if type(headers) == "table" then
    local parts = {}
    for i, entry in ipairs(headers) do parts[i] = M.header(entry[1], entry[2], entry[3]) end
    h = table.concat(parts)
  end
  payload = payload or ""
  local total = 16 + #h + #payload
  local prelude = string.pack(">I4I4", total, #h)
  local head = prelude .. string.pack(">I4", M.crc32(prelude)) .. h .. payload
  return head .. string.pack(">I4", M.crc32(head))
end

-- An event of `event_type` with a JSON (or other) payload.
function M.event(event_type, payload, content_type)
  return M.message({{":message-type", "event"}, {":event-type", event_type},
    {":content-type", content_type or "application/json"}}, payload)
end

function M.exception(exception_type, payload, content_type)
  return M.message({{":message-type", "exception"}, {":exception-type", exception_type},
    {":content-type", content_type or "application/json"}}, payload)
end

return M
