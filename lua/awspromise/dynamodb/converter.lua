-- AWS.DynamoDB.Converter: Lua values <-> DynamoDB AttributeValues, as the JavaScript SDK v2's
-- converter does for JavaScript values. What Lua cannot say by itself gets a marker:
--   Converter.NULL            a NULL attribute (Lua has no nil inside a list nor as a map value)
--   Converter.list(t) / map(t) an empty (or any) table that must be an L / an M
--   Converter.binary(bytes)   B (a Lua string is text and bytes at once; plain strings are S)
--   Converter.set(values)     SS, NS or BS (homogeneous)
--   Converter.number(text)    N kept as its exact decimal text (what wrapNumbers returns)
-- A plain empty table is an M. Tables read back from L and M carry the list/map marker, so that
-- get -> modify -> put writes each one back as what it was.
local Promise = require "awspromise.promise"

local make_error = Promise.make_error

local Converter = {}

local function fail(path, message)
  error(make_error("InvalidParameterValue", (path ~= "" and path .. ": " or "") .. message), 0)
end

-- ---------------------------------------------------------------- the markers

local NULL = setmetatable({}, {__name = "AWS.DynamoDB.NULL", __tostring = function() return "AWS.DynamoDB.NULL" end})
Converter.NULL = NULL

local LIST = {__name = "AWS.DynamoDB.list"}
local MAP = {__name = "AWS.DynamoDB.map"}

local function marked(t, mt, name)
  t = t or {}
  if type(t) ~= "table" then fail("", name .. " expects a table, got " .. type(t)) end
  local current = getmetatable(t)
  if current ~= nil and current ~= mt then fail("", name .. ": the table already has a metatable") end
  return setmetatable(t, mt)
end

function Converter.list(t) return marked(t, LIST, "AWS.DynamoDB.list") end
function Converter.map(t) return marked(t, MAP, "AWS.DynamoDB.map") end
function Converter.isList(t) return getmetatable(t) == LIST end
function Converter.isMap(t) return getmetatable(t) == MAP end

local Binary = {__name = "AWS.DynamoDB.Binary"}
Binary.__index = Binary
Binary.__tostring = function(b) return b.value end
Binary.__len = function(b) return #b.value end
Binary.__eq = function(a, b) return a.value == b.value end

function Converter.binary(bytes)
  if type(bytes) ~= "string" then fail("", "a binary value must be a string of bytes, got " .. type(bytes)) end
  return setmetatable({value = bytes}, Binary)
end
function Converter.isBinary(v) return getmetatable(v) == Binary end

-- An N as exact decimal text: numbers past 2^63 or with more digits than a double holds.
local NumberValue = {__name = "AWS.DynamoDB.NumberValue"}
NumberValue.__index = NumberValue
NumberValue.__tostring = function(n) return n.value end
NumberValue.__eq = function(a, b) return a.value == b.value end
function NumberValue:toNumber() return tonumber(self.value) end

function Converter.number(text)
  if type(text) ~= "string" or not text:match("^%s*[-+]?%d*%.?%d*[eE]?[-+]?%d*%s*$") or not text:match("%d") then
    fail("", "a number value needs decimal text, got " .. tostring(text))
  end
  return setmetatable({value = text}, NumberValue)
end
function Converter.isNumber(v) return getmetatable(v) == NumberValue end

local Set = {__name = "AWS.DynamoDB.Set"}
Set.__index = Set
Set.__len = function(s) return #s.values end

local function set_member_type(v)
  local kind = type(v)
  if kind == "string" then return "String" end
  if kind == "number" or getmetatable(v) == NumberValue then return "Number" end
  if getmetatable(v) == Binary then return "Binary" end
  return nil
end

-- values: a list of strings, numbers (or number values) or binary values, all of one kind.
-- An empty set is allowed here (JavaScript allows it) and refused when written, unless
-- convertEmptyValues turns it into NULL.
function Converter.set(values, options)
  if type(values) ~= "table" then fail("", "createSet expects a list, got " .. type(values)) end
  local kind
  for i, v in ipairs(values) do
    local this = set_member_type(v)
    if not this then fail("", "createSet: element " .. i .. " is a " .. type(v) .. "; sets hold strings, numbers or binary values") end
    kind = kind or this
    if this ~= kind and not (options and options.validate == false) then
      fail("", "createSet: a set holds one kind of value; element " .. i .. " is a " .. this .. ", not a " .. kind)
    end
  end
  local copy = {}
  for i, v in ipairs(values) do copy[i] = v end
  return setmetatable({type = kind or "String", values = copy}, Set)
end
function Converter.isSet(v) return getmetatable(v) == Set end

-- ---------------------------------------------------------------- numbers

-- The shortest decimal text that reads back as the same double (JavaScript's String(n)).
local function float_text(n, path)
  if n ~= n then fail(path, "NaN cannot be stored as a DynamoDB number") end
  if n == math.huge or n == -math.huge then fail(path, "infinity cannot be stored as a DynamoDB number") end
  if n == 0 then return "0" end
  for precision = 1, 17 do
    local text = string.format("%." .. precision .. "g", n)
    if tonumber(text) == n then return text end
  end
  return string.format("%.17g", n)
end

local function number_text(v, path)
  if math.type(v) == "integer" then return string.format("%d", v) end
  if type(v) == "number" then return float_text(v, path) end
  return v.value
end

-- An integer's text becomes a Lua integer when it fits in 64 bits, anything else a float.
local function read_number(text, options)
  if options.wrapNumbers then return setmetatable({value = text}, NumberValue) end
  local n = tonumber(text)
  if n == nil then fail("", "DynamoDB returned a number that is not one: " .. tostring(text)) end
  return n
end

-- ---------------------------------------------------------------- Lua -> AttributeValue

local input

local function child(path, key)
  if type(key) == "number" then return path .. "[" .. key .. "]" end
  return path == "" and key or path .. "." .. key
end

-- "list" when t's keys are exactly 1..#t, "map" when they are all strings.
local function table_kind(t, path)
  local mt = getmetatable(t)
  if mt == LIST then return "list" end
  if mt == MAP then return "map" end
  local count, strings = 0, 0
  for k in pairs(t) do
    count = count + 1
    if type(k) == "string" then strings = strings + 1 end
  end
  if count == 0 or strings == count then return "map" end
  if strings == 0 and count == #t then return "list" end
  if strings == 0 then
    fail(path, "a list with holes: a nil element is written AWS.DynamoDB.NULL")
  end
  fail(path, "a table with both list and map keys cannot be stored: use AWS.DynamoDB.list or map")
end

local function empty_value(path, what, options)
  if options.convertEmptyValues then return {NULL = true} end
  fail(path, "an empty " .. what .. " cannot be stored (convertEmptyValues = true writes NULL instead)")
end

local function set_input(s, path, options)
  local values = s.values
  if #values == 0 then return empty_value(path, "set", options) end
  local out = {}
  if s.type == "Number" then
    for i, v in ipairs(values) do out[i] = number_text(v, child(path, i)) end
    return {NS = out}
  elseif s.type == "Binary" then
    for i, v in ipairs(values) do out[i] = type(v) == "string" and v or v.value end
    return {BS = out}
  end
  for i, v in ipairs(values) do out[i] = v end
  return {SS = out}
end

local function table_input(t, path, options)
  local mt = getmetatable(t)
  if mt == Set then return set_input(t, path, options) end
  if mt == Binary then
    if t.value == "" then return empty_value(path, "binary value", options) end
    return {B = t.value}
  end
  if mt == NumberValue then return {N = t.value} end
  if table_kind(t, path) == "list" then
    local out = {}
    for i = 1, #t do out[i] = input(t[i], child(path, i), options) end
    return {L = out}
  end
  local out = {}
  for k, v in pairs(t) do
    if type(k) ~= "string" then fail(path, "a map key must be a string, got " .. type(k)) end
    out[k] = input(v, child(path, k), options)
  end
  return {M = out}
end

input = function(value, path, options)
  local kind = type(value)
  if kind == "string" then
    if value == "" and options.convertEmptyValues then return {NULL = true} end
    return {S = value}
  elseif kind == "number" then
    return {N = number_text(value, path)}
  elseif kind == "boolean" then
    return {BOOL = value}
  elseif value == nil or value == NULL then
    return {NULL = true}
  elseif kind == "table" then
    return table_input(value, path, options)
  end
  fail(path, "a " .. kind .. " cannot be stored in DynamoDB")
end

-- ---------------------------------------------------------------- AttributeValue -> Lua

local output

local function set_output(values, read)
  local out = {}
  for i, v in ipairs(values) do out[i] = read(v) end
  return out
end

local READERS = {
  S = function(v) return v end,
  N = read_number,
  BOOL = function(v) return v end,
  NULL = function() return NULL end,
  B = function(v) return setmetatable({value = v}, Binary) end,
  SS = function(v) return setmetatable({type = "String", values = set_output(v, tostring)}, Set) end,
  NS = function(v, options)
    return setmetatable({type = "Number", values = set_output(v, function(x) return read_number(x, options) end)}, Set)
  end,
  BS = function(v) return setmetatable({type = "Binary", values = set_output(v, Converter.binary)}, Set) end,
  L = function(v, options)
    local out = {}
    for i, e in ipairs(v) do out[i] = output(e, options) end
    return setmetatable(out, LIST)
  end,
  M = function(v, options)
    local out = {}
    for k, e in pairs(v) do out[k] = output(e, options) end
    return setmetatable(out, MAP)
  end,
}

output = function(attr, options)
  if type(attr) ~= "table" then return nil end
  for kind, value in pairs(attr) do
    local read = READERS[kind]
    if read then return read(value, options) end
  end
  return nil
end

-- ---------------------------------------------------------------- the public functions

local NO_OPTIONS = {}

-- Converter.input(value[, options]) -> AttributeValue. options: convertEmptyValues.
function Converter.input(value, options, path)
  return input(value, path or "", options or NO_OPTIONS)
end

-- Converter.output(attributeValue[, options]) -> Lua value. options: wrapNumbers.
function Converter.output(attr, options)
  return output(attr, options or NO_OPTIONS)
end

-- Converter.marshall(table) -> {name = AttributeValue}: the table is always read as a map.
function Converter.marshall(item, options, path)
  if type(item) ~= "table" then fail(path or "", "marshall expects a table, got " .. type(item)) end
  local out = {}
  options = options or NO_OPTIONS
  for k, v in pairs(item) do
    if type(k) ~= "string" then fail(path or "", "an item's attribute names must be strings, got " .. type(k)) end
    out[k] = input(v, child(path or "", k), options)
  end
  return out
end

-- Converter.unmarshall({name = AttributeValue}) -> a plain table of Lua values.
function Converter.unmarshall(item, options)
  local out = {}
  options = options or NO_OPTIONS
  for k, v in pairs(item or NO_OPTIONS) do out[k] = output(v, options) end
  return out
end

return Converter
