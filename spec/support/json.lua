-- A small JSON decoder for the specs' test data (no JSON library is guaranteed on Lua 5.4).
-- Objects become tables, arrays become sequences, null becomes json.null; errors name the offset.
local json = { null = setmetatable({}, { __tostring = function() return "null" end }) }

local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function fail(s, i, what)
  error(("json: %s at offset %d near %q"):format(what, i, s:sub(i, i + 10)), 0)
end

local function skip(s, i)
  return s:find("[^ \t\r\n]", i) or #s + 1
end

local value

local function str(s, i) -- s:sub(i, i) == '"'
  local out, j = {}, i + 1
  while true do
    local c = s:sub(j, j)
    if c == "" then fail(s, i, "unterminated string") end
    if c == '"' then return table.concat(out), j + 1 end
    if c == "\\" then
      local e = s:sub(j + 1, j + 1)
      if e == "u" then
        local cp = tonumber(s:sub(j + 2, j + 5), 16) or fail(s, j, "bad \\u escape")
        j = j + 6
        if cp >= 0xD800 and cp < 0xDC00 and s:sub(j, j + 1) == "\\u" then
          local lo = tonumber(s:sub(j + 2, j + 5), 16) or fail(s, j, "bad \\u escape")
          cp, j = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00), j + 6
        end
        out[#out + 1] = utf8.char(cp)
      else
        out[#out + 1] = escapes[e] or fail(s, j, "bad escape")
        j = j + 2
      end
    else
      local k = s:find('["\\]', j) or #s + 1
      out[#out + 1] = s:sub(j, k - 1)
      j = k
    end
  end
end

local function seq(s, i, close, item)
  local t, n = {}, 0
  i = skip(s, i + 1)
  if s:sub(i, i) == close then return t, i + 1 end
  while true do
    n = n + 1
    i = item(t, n, i)
    i = skip(s, i)
    local c = s:sub(i, i)
    if c == close then return t, i + 1 end
    if c ~= "," then fail(s, i, "expected ',' or '" .. close .. "'") end
    i = skip(s, i + 1)
  end
end

function value(s, i)
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    return seq(s, i, "}", function(t, _, j)
      if s:sub(j, j) ~= '"' then fail(s, j, "expected a key") end
      local k
      k, j = str(s, j)
      j = skip(s, j)
      if s:sub(j, j) ~= ":" then fail(s, j, "expected ':'") end
      t[k], j = value(s, j + 1)
      return j
    end)
  elseif c == "[" then
    return seq(s, i, "]", function(t, n, j)
      t[n], j = value(s, j)
      return j
    end)
  elseif c == '"' then
    return str(s, i)
  end
  for lit, v in pairs({ ["true"] = true, ["false"] = false, null = json.null }) do
    if s:sub(i, i + #lit - 1) == lit then return v, i + #lit end
  end
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  if num and num ~= "" and tonumber(num) then return math.tointeger(tonumber(num)) or tonumber(num), i + #num end
  fail(s, i, "unexpected character")
end

function json.decode(s)
  local v, i = value(s, 1)
  if skip(s, i) <= #s then fail(s, i, "trailing data") end
  return v
end

return json
