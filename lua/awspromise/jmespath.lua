-- The JMESPath subset that the shipped paginators and waiters use (https://jmespath.org/specification.html).
--
--   local jmespath = require "awspromise.jmespath"
--   local expr = jmespath.compile("Reservations[].Instances[].State.Name")  -- raises JMESPathError
--   expr(data)                              -> the value (nil for JMESPath null)
--   jmespath.search(data, "Table.TableStatus")  (compiled once per expression text)
--   jmespath.equal(a, b), jmespath.truthy(v)
--
-- Supported: identifiers (bare and "quoted"), sub-expressions `a.b`, indexes `[0]` `[-1]`, list
-- projections `[*]` and flatten `[]`, object projections `*`, filters `[?cond]`, comparisons
-- (== != < <= > >=), `||`, `&&`, `!`, parentheses, pipes `|`, `@`, literals `...` and 'raw
-- strings', and the functions length, contains, starts_with, ends_with, not_null, keys, values, type.
-- Not supported (no shipped paginator or waiter needs them; compile raises JMESPathError naming the
-- construct): slices `[a:b:c]`, multi-select lists `[a, b]` and hashes `{k: v}`, expression
-- references `&expr`, and every other built-in function (sort_by, max_by, map, join, ...).
--
-- Values are Lua's: a JSON null is nil (core.null counts as nil too); a table is a list when it
-- has a [1] or is empty, else an object. An empty table is both, as the data cannot tell.
local core = require "awspromise.core"
local make_error = require("awspromise.promise").make_error

local NULL = core.null

local jmespath = {}

jmespath.UNSUPPORTED = {"slices [a:b:c]", "multi-select lists [a, b]", "multi-select hashes {k: v}",
  "expression references &expr", "functions other than length, contains, starts_with, ends_with, not_null, keys, values, type"}

local function fail(expression, message, position)
  local where = position and (" at position " .. position) or ""
  error(make_error("JMESPathError", message .. where .. " in '" .. expression .. "'"), 0)
end

-- ---------------------------------------------------------------- values

local function is_list(v)
  return type(v) == "table" and (v[1] ~= nil or next(v) == nil)
end

local function is_object(v)
  return type(v) == "table" and v[1] == nil
end

local function truthy(v)
  if v == nil or v == false or v == NULL or v == "" then return false end
  if type(v) == "table" then return next(v) ~= nil end
  return true
end
jmespath.truthy = truthy

local function equal(a, b)
  if a == NULL then a = nil end
  if b == NULL then b = nil end
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do
    if not equal(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end
jmespath.equal = equal

-- ---------------------------------------------------------------- lexer

local SIMPLE = {
  ["."] = "dot", ["*"] = "star", [","] = "comma", [":"] = "colon", ["{"] = "lbrace", ["}"] = "rbrace",
  ["]"] = "rbracket", ["("] = "lparen", [")"] = "rparen", ["@"] = "current",
}

local PAIRS = {
  ["[?"] = "filter", ["[]"] = "flatten", ["||"] = "or", ["&&"] = "and",
  ["=="] = "eq", ["!="] = "ne", ["<="] = "le", [">="] = "ge",
}

local function read_quoted(expression, i, quote)
  local j = i + 1
  while true do
    local c = expression:sub(j, j)
    if c == "" then fail(expression, "unterminated " .. quote, i) end
    if c == "\\" then
      j = j + 2
    elseif c == quote then
      return expression:sub(i + 1, j - 1), j + 1
    else
      j = j + 1
    end
  end
end

local function json_value(expression, text, position)
  local ok, value = pcall(core.json_decode, text)
  if not ok then fail(expression, "invalid JSON " .. text, position) end
  if value == NULL then return nil end
  return value
end

local function tokenize(expression)
  local tokens, i, n = {}, 1, #expression
  local function add(kind, value, position)
    tokens[#tokens + 1] = {kind = kind, value = value, position = position}
  end
  while i <= n do
    local c = expression:sub(i, i)
    local two = expression:sub(i, i + 1)
    if c:match("%s") then
      i = i + 1
    elseif c:match("[%a_]") then
      local word = expression:match("^[%w_]+", i)
      add("name", word, i)
      i = i + #word
    elseif c:match("%d") or (c == "-" and expression:sub(i + 1, i + 1):match("%d")) then
      local digits = expression:match("^%-?%d+", i)
      add("number", math.tointeger(tonumber(digits)), i)
      i = i + #digits
    elseif c == '"' then
      local body, after = read_quoted(expression, i, '"')
      add("identifier", json_value(expression, '"' .. body .. '"', i), i)
      i = after
    elseif c == "'" then
      local body, after = read_quoted(expression, i, "'")
      add("literal", (body:gsub("\\'", "'")), i)
      i = after
    elseif c == "`" then
      local body, after = read_quoted(expression, i, "`")
      add("literal", json_value(expression, (body:gsub("\\`", "`")), i), i)
      i = after
    elseif PAIRS[two] then
      add(PAIRS[two], two, i)
      i = i + 2
    elseif c == "[" then
      add("lbracket", c, i)
      i = i + 1
    elseif c == "<" or c == ">" then
      add(c == "<" and "lt" or "gt", c, i)
      i = i + 1
    elseif c == "!" then
      add("not", c, i)
      i = i + 1
    elseif c == "|" then
      add("pipe", c, i)
      i = i + 1
    elseif c == "&" then
      fail(expression, "expression references (&) are not supported", i)
    elseif SIMPLE[c] then
      add(SIMPLE[c], c, i)
      i = i + 1
    else
      fail(expression, "unexpected character '" .. c .. "'", i)
    end
  end
  add("eof", nil, n + 1)
  return tokens
end

-- ---------------------------------------------------------------- evaluation pieces

local function identity(v) return v end

local function field(name)
  return function(v)
    if type(v) ~= "table" or v[1] ~= nil then return nil end
    local found = v[name]
    if found == NULL then return nil end
    return found
  end
end

local function pipe(left, right)
  return function(v) return right(left(v)) end
end

-- A node built from what `left` yields when `accepts` it (a list, an object), else null.
local function over(left, accepts, build)
  return function(v)
    local base = left(v)
    if not accepts(base) then return nil end
    return build(base)
  end
end

local function values_of(object)
  local out = {}
  for _, element in pairs(object) do out[#out + 1] = element end
  return out
end

-- Each element of the list `left` yields, through `right`, keeping the non-null results.
local function project(left, right, condition)
  return over(left, is_list, function(base)
    local out = {}
    for i = 1, #base do
      local element = base[i]
      if not condition or truthy(condition(element)) then
        local r = right(element)
        if r ~= nil and r ~= NULL then out[#out + 1] = r end
      end
    end
    return out
  end)
end

local function project_values(left, right)
  return project(over(left, is_object, values_of), right)
end

local function flatten(child)
  return over(child, is_list, function(base)
    local out = {}
    for i = 1, #base do
      local element = base[i]
      if is_list(element) then
        for j = 1, #element do out[#out + 1] = element[j] end
      elseif element ~= NULL then
        out[#out + 1] = element
      end
    end
    return out
  end)
end

local function index(left, n)
  return over(left, is_list, function(base)
    local found = base[n < 0 and #base + n + 1 or n + 1]
    if found == NULL then return nil end
    return found
  end)
end

local ORDER = {
  lt = function(a, b) return a < b end, le = function(a, b) return a <= b end,
  gt = function(a, b) return a > b end, ge = function(a, b) return a >= b end,
}

local function compare(kind, left, right)
  if kind == "eq" then return function(v) return equal(left(v), right(v)) end end
  if kind == "ne" then return function(v) return not equal(left(v), right(v)) end end
  local order = ORDER[kind]
  return function(v)
    local a, b = left(v), right(v)
    if type(a) ~= "number" or type(b) ~= "number" then return nil end
    return order(a, b)
  end
end

-- ---------------------------------------------------------------- functions

local function type_of(v)
  if v == nil or v == NULL then return "null" end
  local t = type(v)
  if t == "table" then return is_list(v) and "array" or "object" end
  if t == "boolean" or t == "string" or t == "number" then return t end
  return "null"
end

local function call_error(name, message)
  error(make_error("JMESPathError", name .. "(): " .. message), 0)
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

local FUNCTIONS = {
  length = {1, function(v)
    if type(v) == "string" then return utf8.len(v) or #v end
    if type(v) == "table" then return count(v) end
    call_error("length", "expected a string, an array or an object, got " .. type_of(v))
  end},
  contains = {2, function(subject, search)
    if type(subject) == "string" then
      return type(search) == "string" and subject:find(search, 1, true) ~= nil
    end
    if not is_list(subject) then call_error("contains", "expected an array or a string, got " .. type_of(subject)) end
    for i = 1, #subject do
      if equal(subject[i], search) then return true end
    end
    return false
  end},
  starts_with = {2, function(s, prefix)
    if type(s) ~= "string" or type(prefix) ~= "string" then call_error("starts_with", "expected two strings") end
    return s:sub(1, #prefix) == prefix
  end},
  ends_with = {2, function(s, suffix)
    if type(s) ~= "string" or type(suffix) ~= "string" then call_error("ends_with", "expected two strings") end
    return suffix == "" or s:sub(-#suffix) == suffix
  end},
  not_null = {-1, function(...)
    for i = 1, select("#", ...) do
      local v = select(i, ...)
      if v ~= nil and v ~= NULL then return v end
    end
    return nil
  end},
  keys = {1, function(v)
    if not is_object(v) then call_error("keys", "expected an object, got " .. type_of(v)) end
    local out = {}
    for k in pairs(v) do out[#out + 1] = k end
    table.sort(out)
    return out
  end},
  values = {1, function(v)
    if not is_object(v) then call_error("values", "expected an object, got " .. type_of(v)) end
    return values_of(v)
  end},
  type = {1, type_of},
}

local function call(expression, name, args, position)
  local arity, fn = FUNCTIONS[name][1], FUNCTIONS[name][2]
  if arity >= 0 and #args ~= arity then
    fail(expression, name .. "() takes " .. arity .. " argument(s), got " .. #args, position)
  end
  if arity < 0 and #args == 0 then fail(expression, name .. "() needs at least one argument", position) end
  if #args == 1 then
    local a = args[1]
    return function(v) return fn(a(v)) end
  end
  if #args == 2 then
    local a, b = args[1], args[2]
    return function(v) return fn(a(v), b(v)) end
  end
  return function(v)
    local values = {}
    for i, arg in ipairs(args) do values[i] = arg(v) end
    return fn(table.unpack(values, 1, #args))
  end
end

-- ---------------------------------------------------------------- parser (top-down operator precedence)

local BINDING = {
  eof = 0, name = 0, identifier = 0, literal = 0, rbracket = 0, rparen = 0, comma = 0, rbrace = 0, number = 0,
  current = 0, colon = 0, pipe = 1, ["or"] = 2, ["and"] = 3,
  eq = 5, ne = 5, lt = 5, le = 5, gt = 5, ge = 5,
  flatten = 9, star = 20, filter = 21, dot = 40, ["not"] = 45, lbrace = 50, lbracket = 55, lparen = 60,
}

local COMPARATORS = {eq = true, ne = true, lt = true, le = true, gt = true, ge = true}

-- Below this binding power a projection's right-hand side ends.
local PROJECTION_STOP = 10

local Parser = {}
Parser.__index = Parser

function Parser:peek(offset) return self.tokens[self.pos + (offset or 0)] end

function Parser:advance()
  local t = self.tokens[self.pos]
  self.pos = self.pos + 1
  return t
end

function Parser:expect(kind)
  local t = self:advance()
  if t.kind ~= kind then self:unexpected(t, "expected " .. kind) end
  return t
end

function Parser:unexpected(t, why)
  local shown = t.kind == "eof" and "end of expression" or ("'" .. tostring(t.value) .. "'")
  fail(self.expression, (why and (why .. ", found ") or "unexpected ") .. shown, t.position)
end

function Parser:unsupported(what, t)
  fail(self.expression, what .. " are not supported by this JMESPath subset", t.position)
end

function Parser:parse(rbp)
  local left = self:nud(self:advance())
  while rbp < BINDING[self:peek().kind] do
    left = self:led(self:advance(), left)
  end
  return left
end

function Parser:projection_rhs(rbp)
  local t = self:peek()
  if BINDING[t.kind] < PROJECTION_STOP then return identity end
  if t.kind == "lbracket" or t.kind == "filter" then return self:parse(rbp) end
  if t.kind == "dot" then
    self:advance()
    return self:dot_rhs(rbp)
  end
  self:unexpected(t)
end

function Parser:dot_rhs(rbp)
  local t = self:peek()
  if t.kind == "name" or t.kind == "identifier" or t.kind == "star" then return self:parse(rbp) end
  if t.kind == "lbracket" then self:unsupported("multi-select lists", t) end
  if t.kind == "lbrace" then self:unsupported("multi-select hashes", t) end
  self:unexpected(t, "expected a name after '.'")
end

-- After '[': an index, or '*]' (a projection); anything else is a construct we leave out.
function Parser:bracket(left, t)
  local nxt = self:peek()
  if nxt.kind == "number" then
    self:advance()
    if self:peek().kind == "colon" then self:unsupported("slices", t) end
    self:expect("rbracket")
    return index(left, nxt.value)
  end
  if nxt.kind == "colon" then self:unsupported("slices", t) end
  if nxt.kind == "star" and self:peek(1).kind == "rbracket" then
    self:advance()
    self:advance()
    return project(left, self:projection_rhs(BINDING.star))
  end
  self:unsupported("multi-select lists", t)
end

function Parser:filter(left)
  local condition = self:parse(0)
  self:expect("rbracket")
  local right = self:peek().kind == "flatten" and identity or self:projection_rhs(BINDING.filter)
  return project(left, right, condition)
end

function Parser:function_call(name)
  if not FUNCTIONS[name.value] then
    fail(self.expression, "the function " .. name.value .. "() is not supported", name.position)
  end
  self:advance()
  local args = {}
  while self:peek().kind ~= "rparen" do
    args[#args + 1] = self:parse(0)
    local sep = self:peek().kind
    if sep == "comma" then
      self:advance()
    elseif sep ~= "rparen" then
      self:unexpected(self:peek(), "expected ',' or ')'")
    end
  end
  self:advance()
  return call(self.expression, name.value, args, name.position)
end

function Parser:nud(t)
  local kind = t.kind
  if kind == "literal" then
    local value = t.value
    return function() return value end
  elseif kind == "name" and self:peek().kind == "lparen" then
    return self:function_call(t)
  elseif kind == "name" or kind == "identifier" then
    return field(t.value)
  elseif kind == "current" then
    return identity
  elseif kind == "not" then
    local operand = self:parse(BINDING["not"])
    return function(v) return not truthy(operand(v)) end
  elseif kind == "star" then
    return project_values(identity, self:projection_rhs(BINDING.star))
  elseif kind == "filter" then
    return self:filter(identity)
  elseif kind == "flatten" then
    return project(flatten(identity), self:projection_rhs(BINDING.flatten))
  elseif kind == "lbracket" then
    return self:bracket(identity, t)
  elseif kind == "lparen" then
    local inner = self:parse(0)
    self:expect("rparen")
    return inner
  elseif kind == "lbrace" then
    self:unsupported("multi-select hashes", t)
  end
  self:unexpected(t)
end

function Parser:led(t, left)
  local kind = t.kind
  if kind == "dot" then
    return pipe(left, self:dot_rhs(BINDING.dot))
  elseif kind == "pipe" then
    return pipe(left, self:parse(BINDING.pipe))
  elseif kind == "or" then
    local right = self:parse(BINDING["or"])
    return function(v)
      local l = left(v)
      if truthy(l) then return l end
      return right(v)
    end
  elseif kind == "and" then
    local right = self:parse(BINDING["and"])
    return function(v)
      local l = left(v)
      if not truthy(l) then return l end
      return right(v)
    end
  elseif COMPARATORS[kind] then
    return compare(kind, left, self:parse(BINDING[kind]))
  elseif kind == "flatten" then
    return project(flatten(left), self:projection_rhs(BINDING.flatten))
  elseif kind == "filter" then
    return self:filter(left)
  elseif kind == "lbracket" then
    return self:bracket(left, t)
  end
  self:unexpected(t)
end

-- Expressions come from the models, a few hundred at most; a program that searches with ever new
-- texts only recompiles.
local COMPILED_LIMIT = 1000
local compiled, compiled_count = {}, 0

-- compile(expression) -> function(data) -> value; raises JMESPathError for what it cannot read.
function jmespath.compile(expression)
  local fn = compiled[expression]
  if fn then return fn end
  if type(expression) ~= "string" or expression == "" then
    error(make_error("JMESPathError", "a JMESPath expression must be a non-empty string"), 2)
  end
  local parser = setmetatable({expression = expression, tokens = tokenize(expression), pos = 1}, Parser)
  fn = parser:parse(0)
  if parser:peek().kind ~= "eof" then parser:unexpected(parser:peek()) end
  if compiled_count >= COMPILED_LIMIT then compiled, compiled_count = {}, 0 end
  compiled[expression] = fn
  compiled_count = compiled_count + 1
  return fn
end

function jmespath.search(data, expression)
  return jmespath.compile(expression)(data)
end

return jmespath
