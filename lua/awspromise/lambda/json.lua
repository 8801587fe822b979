-- The JSON rule of the Lambda runtime: how an event becomes Lua and how a result becomes JSON.
--
--   event  JSON object -> table with string keys; array -> sequence 1..n; null -> json.null (the
--          same light userdata as require("awspromise.lambda").null and core.null); numbers -> integer when integral.
--   result nil -> null; a table with string keys -> object; a sequence -> array; an empty table
--          -> {} (mark it with setmetatable(t, json.array_mt) to send []); a table whose keys are
--          `n` and integers within 1..n (the shape of table.pack and AWS.Promise.all's values) ->
--          an array of n items, holes as null; anything with no JSON form (a function, a
--          cycle, mixed keys) -> an error, reported as the invocation's Runtime.MarshalError.
local core = require "awspromise.core"

local json = {null = core.null, array_mt = core.json_array_mt, object_mt = core.json_object_mt}

-- The length of a packed list ({n = 3, a, b, c}), or nil when t is not one. {n = 2} alone is an
-- object with a field n: a packed list has at least one item.
local function packed_length(t)
  local n = rawget(t, "n")
  if math.type(n) ~= "integer" or n < 0 then return nil end
  local items = 0
  for key in next, t do
    if key ~= "n" then
      if math.type(key) ~= "integer" or key < 1 or key > n then return nil end
      items = items + 1
    end
  end
  return items > 0 and n or nil
end

local function forced_kind(t)
  local mt = getmetatable(t)
  return type(mt) == "table" and rawget(mt, "__jsontype") or nil
end

local ready

local function ready_packed(t, n, ancestors)
  local out = setmetatable({}, json.array_mt)
  for i = 1, n do
    local v = rawget(t, i)
    if v == nil then out[i] = json.null else out[i] = ready(v, ancestors) end
  end
  return out
end

-- value, with every packed list below it turned into an array table. Tables that need no change
-- are returned as they are; a cycle is left for the encoder, which names where it is.
ready = function(value, ancestors)
  if type(value) ~= "table" or ancestors[value] then return value end
  local kind = forced_kind(value)
  local n = kind == nil and packed_length(value)
  ancestors[value] = true
  local out
  if n then
    out = ready_packed(value, n, ancestors)
  else
    for k, v in next, value do
      local w = ready(v, ancestors)
      if w ~= v then
        if not out then
          out = {}
          for k2, v2 in next, value do out[k2] = v2 end
          if kind then setmetatable(out, kind == "array" and json.array_mt or json.object_mt) end
        end
        out[k] = w
      end
    end
  end
  ancestors[value] = nil
  return out or value
end

-- The result as JSON text, or nil and the encoder's message.
function json.encode_result(value)
  return core.json_encode_safe(ready(value, {}))
end

-- The event as a Lua value, or nil and the decoder's message.
function json.decode_event(text)
  return core.json_decode_safe(text)
end

return json
