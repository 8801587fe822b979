-- Runs botocore's protocol test cases (../shared/testdata/protocols) against core.build_request
-- and core.parse_response. How a case is compared follows ../shared/testdata/README.md:
--   * JSON bodies as parsed JSON, XML bodies as trees (white space between elements dropped),
--     query and ec2 bodies byte for byte, anything that is not JSON in a JSON protocol (raw blob
--     or string payloads) byte for byte;
--   * expected headers must be present with their value (names case-insensitive), more are
--     allowed; forbidHeaders absent; requireHeaders present;
--   * results deeply, floats with a tolerance, "NaN"/"Infinity"/"-Infinity" standing for the
--     float values, timestamps as epoch seconds, blobs as strings.
-- Content-Length is the HTTP engine's business (it is computed from the body when sent), so a
-- required or expected Content-Length is checked against the body length instead.
local core = require "awspromise.core"

local M = {}

M.PROTOCOLS = { "json", "json_1_0", "rest-json", "rest-xml", "query", "ec2" }
M.TOKEN = "00000000-0000-4000-8000-000000000000"

local JSON_PROTOCOLS = { json = true, json_1_0 = true, ["rest-json"] = true }
local XML_PROTOCOLS = { ["rest-xml"] = true }

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- The shared folder (../shared beside the repository), or nil when this checkout has none.
function M.shared_dir()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local root = src:match("^(.*)/spec/support/[^/]+$") or "."
  if root == "" then root = "." end
  local dir = root .. "/../shared"
  if read_file(dir .. "/testdata/protocols/protocol-tests-ignore-list.json") then return dir end
  return nil
end

---------------------------------------------------------------- order-keeping JSON

-- The order of members in a shape is the order of XML elements and query parameters on the
-- wire, and Lua tables forget it: the test files are read with a decoder that records each
-- object's key order, and models are written back with an encoder that honours it.
local KEY_ORDER = setmetatable({}, { __mode = "k" })
local IS_ARRAY = setmetatable({}, { __mode = "k" })

-- pairs() over a decoded object walks its keys in file order, so that map members serialize in
-- the order the expected bodies list them (botocore's dicts keep insertion order too).
local ORDERED_MT = {__pairs = function(t)
  local order, i = KEY_ORDER[t], 0
  return function()
    i = i + 1
    local k = order[i]
    if k ~= nil then return k, t[k] end
  end, t, nil
end}

local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function decode_ordered(text)
  local pos = 1
  local function fail(what) error(string.format("protocol_suite: JSON %s at byte %d", what, pos), 0) end
  local function skip() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
  local value
  local function str()
    local out, i = {}, pos + 1
    while true do
      local j = text:find('["\\]', i)
      if not j then fail("unterminated string") end
      out[#out + 1] = text:sub(i, j - 1)
      if text:sub(j, j) == '"' then pos = j + 1; break end
      local e = text:sub(j + 1, j + 1)
      if e == "u" then
        local cp = tonumber(text:sub(j + 2, j + 5), 16)
        i = j + 6
        if cp >= 0xD800 and cp <= 0xDBFF and text:sub(i, i + 1) == "\\u" then
          local lo = tonumber(text:sub(i + 2, i + 5), 16)
          cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
          i = i + 6
        end
        out[#out + 1] = utf8.char(cp)
      else
        out[#out + 1] = escapes[e] or fail("bad escape")
        i = j + 2
      end
    end
    return table.concat(out)
  end
  function value()
    skip()
    local c = text:sub(pos, pos)
    if c == "{" then
      local t, order = setmetatable({}, ORDERED_MT), {}
      KEY_ORDER[t] = order
      pos = pos + 1
      skip()
      if text:sub(pos, pos) == "}" then pos = pos + 1; return t end
      while true do
        skip()
        if text:sub(pos, pos) ~= '"' then fail("expected a key") end
        local k = str()
        skip()
        if text:sub(pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        local v = value()
        if t[k] == nil then order[#order + 1] = k end
        t[k] = v
        skip()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "}" then return t end
        if d ~= "," then fail("expected ',' or '}'") end
      end
    elseif c == "[" then
      local t = {}
      IS_ARRAY[t] = true
      pos = pos + 1
      skip()
      if text:sub(pos, pos) == "]" then pos = pos + 1; return t end
      while true do
        t[#t + 1] = value()
        skip()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return t end
        if d ~= "," then fail("expected ',' or ']'") end
      end
    elseif c == '"' then
      return str()
    elseif text:sub(pos, pos + 3) == "true" then pos = pos + 4; return true
    elseif text:sub(pos, pos + 4) == "false" then pos = pos + 5; return false
    elseif text:sub(pos, pos + 3) == "null" then pos = pos + 4; return core.null
    else
      local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not num or num == "" then fail("unexpected character") end
      pos = pos + #num
      if num:find("[.eE]") then return tonumber(num) end
      return math.tointeger(tonumber(num)) or tonumber(num)
    end
  end
  local v = value()
  skip()
  if pos <= #text then fail("trailing text") end
  return v
end
M.decode_ordered = decode_ordered

local function encode_ordered(v, out)
  local t = type(v)
  if v == core.null or v == nil then
    out[#out + 1] = "null"
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "number" then
    out[#out + 1] = math.type(v) == "integer" and string.format("%d", v) or string.format("%.17g", v)
  elseif t == "string" then
    out[#out + 1] = '"' .. v:gsub('[%c"\\]', function(ch)
      return string.format("\\u%04x", ch:byte())
    end) .. '"'
  elseif t == "table" then
    if IS_ARRAY[v] or (#v > 0 and not KEY_ORDER[v]) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode_ordered(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = KEY_ORDER[v]
      if not keys then
        keys = {}
        for k in pairs(v) do keys[#keys + 1] = k end
        table.sort(keys)
      end
      out[#out + 1] = "{"
      local first = true
      for _, k in ipairs(keys) do
        if v[k] ~= nil then
          if not first then out[#out + 1] = "," end
          first = false
          encode_ordered(k, out)
          out[#out + 1] = ":"
          encode_ordered(v[k], out)
        end
      end
      out[#out + 1] = "}"
    end
  else
    error("protocol_suite: cannot encode a " .. t, 0)
  end
  return out
end

function M.encode_ordered(v)
  return table.concat(encode_ordered(v, {}))
end

function M.load_suites(shared, direction, protocol)
  local text = assert(read_file(string.format("%s/testdata/protocols/%s/%s.json", shared, direction, protocol)))
  return decode_ordered(text)
end

-- { [direction] = { suites = {desc = true}, cases = {id = true} } } for one protocol.
function M.ignore_list(shared, protocol)
  local list = core.json_decode(assert(read_file(shared .. "/testdata/protocols/protocol-tests-ignore-list.json")))
  local out = {}
  for _, direction in ipairs({ "input", "output" }) do
    local entry = { suites = {}, cases = {} }
    local general = list.general and list.general[direction]
    for _, d in ipairs(general and general.suites or {}) do entry.suites[d] = true end
    for _, id in ipairs(general and general.cases or {}) do entry.cases[id] = true end
    local specific = list.protocols and list.protocols[protocol] and list.protocols[protocol][direction]
    for _, d in ipairs(specific and specific.suites or {}) do entry.suites[d] = true end
    for _, id in ipairs(specific and specific.cases or {}) do entry.cases[id] = true end
    out[direction] = entry
  end
  return out
end

-- Why a case cannot run (event streams), or nil.
function M.skip_reason(suite)
  for _, shape in pairs(suite.shapes or {}) do
    if type(shape) == "table" and (shape.eventstream or shape.event) then
      return "event streams are not supported by this runner"
    end
  end
  return nil
end

function M.case_name(protocol, direction, case)
  return string.format("%s %s %s", protocol, direction, case.id or case.description or "?")
end

function M.model_text(suite, case)
  local model = {
    metadata = suite.metadata,
    shapes = suite.shapes or {},
    operations = { [case.given.name] = case.given },
  }
  return M.encode_ordered(model)
end

---------------------------------------------------------------- deep comparison

local function is_special(s) return s == "NaN" or s == "Infinity" or s == "-Infinity" end

local function describe_value(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "table" then
    local ok, text = pcall(core.json_encode, v)
    return ok and text or tostring(v)
  end
  return tostring(v)
end

local function numbers_equal(a, b)
  if a ~= a or b ~= b then return a ~= a and b ~= b end
  if a == b then return true end
  if a == math.huge or a == -math.huge or b == math.huge or b == -math.huge then return false end
  return math.abs(a - b) <= 1e-6 * math.max(1, math.abs(a), math.abs(b))
end

-- Returns nil when `actual` matches `expected`, else a message naming the first difference.
local function deep_diff(expected, actual, path)
  if expected == core.null then
    if actual == nil or actual == core.null then return nil end
    return string.format("%s: expected null, got %s", path, describe_value(actual))
  end
  if type(expected) == "string" and is_special(expected) and type(actual) == "number" then
    local want = expected == "NaN" and 0 / 0 or (expected == "Infinity" and math.huge or -math.huge)
    if numbers_equal(want, actual) then return nil end
    return string.format("%s: expected %s, got %s", path, expected, describe_value(actual))
  end
  if type(expected) == "number" then
    if type(actual) ~= "number" or not numbers_equal(expected, actual) then
      return string.format("%s: expected %s, got %s", path, describe_value(expected), describe_value(actual))
    end
    return nil
  end
  if type(expected) ~= "table" then
    if expected ~= actual then
      return string.format("%s: expected %s, got %s", path, describe_value(expected), describe_value(actual))
    end
    return nil
  end
  if type(actual) ~= "table" then
    return string.format("%s: expected %s, got %s", path, describe_value(expected), describe_value(actual))
  end
  for k, v in pairs(expected) do
    local sub = type(k) == "number" and string.format("%s[%d]", path, k) or (path .. "." .. tostring(k))
    if v ~= core.null or actual[k] ~= nil then
      local d = deep_diff(v, actual[k], sub)
      if d then return d end
    end
  end
  for k, v in pairs(actual) do
    if expected[k] == nil then
      local sub = type(k) == "number" and string.format("%s[%d]", path, k) or (path .. "." .. tostring(k))
      return string.format("%s: unexpected %s", sub, describe_value(v))
    end
  end
  return nil
end
M.deep_diff = deep_diff

---------------------------------------------------------------- bodies

-- An XML tree from core.xml_decode, as canonical text: names with their namespace, attributes
-- sorted, white space between elements already dropped by the decoder.
local function xml_canonical(node, out)
  out[#out + 1] = "<" .. (node.ns and ("{" .. node.ns .. "}") or "") .. node.name
  local names = {}
  for k in pairs(node.attrs or {}) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do out[#out + 1] = string.format(" %s=%q", k, node.attrs[k]) end
  out[#out + 1] = ">"
  for _, child in ipairs(node) do
    if type(child) == "table" then xml_canonical(child, out) else out[#out + 1] = child end
  end
  out[#out + 1] = "</" .. node.name .. ">"
  return out
end

function M.canonical_xml(text)
  local tree, err = core.xml_decode_safe(text)
  if not tree then return nil, err end
  return table.concat(xml_canonical(tree, {}))
end

local function compare_body(protocol, expected, actual)
  actual = actual or ""
  if expected == actual then return nil end
  if expected == "" or actual == "" then
    return string.format("body: expected %q, got %q", expected, actual)
  end
  if JSON_PROTOCOLS[protocol] then
    local want = core.json_decode_safe(expected)
    if want ~= nil then
      local got, err = core.json_decode_safe(actual)
      if got == nil then return string.format("body: not JSON (%s): %q", tostring(err), actual) end
      local d = deep_diff(want, got, "body")
      if d then return d .. "\n  expected body: " .. expected .. "\n  actual body:   " .. actual end
      return nil
    end
  elseif XML_PROTOCOLS[protocol] then
    local want, werr = M.canonical_xml(expected)
    if want then
      local got, err = M.canonical_xml(actual)
      if not got then return string.format("body: not XML (%s): %q", tostring(err), actual) end
      if want == got then return nil end
      return string.format("body (canonical XML) differs:\n  expected: %s\n  actual:   %s", want, got)
    end
    return string.format("body: the expected XML does not parse (%s)", tostring(werr))
  end
  return string.format("body differs:\n  expected: %q\n  actual:   %q", expected, actual)
end

---------------------------------------------------------------- input cases

local function header_lookup(headers, name)
  local lname = name:lower()
  for k, v in pairs(headers or {}) do
    if type(k) == "string" and k:lower() == lname then return v end
  end
  return nil
end

-- "a=1&b=2" -> { "a=1", "b=2" } sorted by name, the order of repeated names kept.
local function query_pairs(q)
  local list = {}
  for pair in (q or ""):gmatch("[^&]+") do list[#list + 1] = pair end
  for i, p in ipairs(list) do list[i] = { key = p:match("^[^=]*"), text = p, pos = i } end
  table.sort(list, function(a, b)
    if a.key ~= b.key then return a.key < b.key end
    return a.pos < b.pos
  end)
  for i, p in ipairs(list) do list[i] = p.text end
  return table.concat(list, "&")
end

local function opts()
  return { idempotencyToken = function() return M.TOKEN end }
end

-- Returns nil when the case passes, else a message.
function M.run_input(protocol, suite, case)
  local model = core.model_load(M.model_text(suite, case))
  local ok, req = pcall(core.build_request, model, case.given.name, case.params or {}, opts())
  if not ok then
    local e = req
    if type(e) == "table" then e = tostring(e.code) .. ": " .. tostring(e.message) end
    return "build_request raised: " .. tostring(e)
  end
  local s = case.serialized
  local problems = {}
  if s.method and req.method ~= s.method then
    problems[#problems + 1] = string.format("method: expected %s, got %s", s.method, tostring(req.method))
  end
  if s.uri then
    local path = req.path or ""
    local query = req.query or ""
    local want_path, want_query = s.uri:match("^([^?]*)%??(.*)$")
    if path ~= want_path or query_pairs(query) ~= query_pairs(want_query) then
      problems[#problems + 1] = string.format("uri: expected %s, got %s", s.uri,
        path .. (query ~= "" and ("?" .. query) or ""))
    end
  end
  local body = req.body
  for name, want in pairs(s.headers or {}) do
    local got = header_lookup(req.headers, name)
    if name:lower() == "content-length" then got = body and tostring(#body) or got end
    -- botocore's own runner adds the charset it sends to the query protocols' expected type
    if name:lower() == "content-type" and (protocol == "query" or protocol == "ec2") and got == want .. "; charset=utf-8" then
      got = want
    end
    if got ~= want then
      problems[#problems + 1] = string.format("header %s: expected %q, got %s", name, want,
        got and string.format("%q", got) or "none")
    end
  end
  for _, name in ipairs(s.forbidHeaders or {}) do
    local got = header_lookup(req.headers, name)
    if name:lower() == "content-length" and body and body ~= "" then got = tostring(#body) end
    if got ~= nil then problems[#problems + 1] = string.format("header %s must be absent, got %q", name, got) end
  end
  for _, name in ipairs(s.requireHeaders or {}) do
    local got = header_lookup(req.headers, name)
    if name:lower() == "content-length" and body then got = tostring(#body) end
    if got == nil then problems[#problems + 1] = string.format("header %s is required", name) end
  end
  if s.host then
    local host = (req.hostPrefix or "") .. "example.com"
    if host ~= s.host then
      problems[#problems + 1] = string.format("host: expected %s, got %s", s.host, host)
    end
  end
  if s.body ~= nil and s.body ~= core.null then
    local d = compare_body(protocol, s.body, body)
    if d then problems[#problems + 1] = d end
  end
  if #problems > 0 then return table.concat(problems, "\n") end
  return nil
end

---------------------------------------------------------------- output cases

function M.run_output(protocol, suite, case)
  local model = core.model_load(M.model_text(suite, case))
  local r = case.response
  local headers = {}
  for k, v in pairs(r.headers or {}) do headers[k:lower()] = v end
  local response = { statusCode = r.status_code, headers = headers, body = r.body or "" }
  local ok, okflag, value = pcall(core.parse_response, model, case.given.name, response)
  if not ok then
    local e = okflag
    if type(e) == "table" then e = tostring(e.code) .. ": " .. tostring(e.message) end
    return "parse_response raised: " .. tostring(e)
  end
  if case.errorCode then
    if okflag then return "expected the error " .. case.errorCode .. ", got a result " .. describe_value(value) end
    local problems = {}
    if value.code ~= case.errorCode then
      problems[#problems + 1] = string.format("code: expected %s, got %s", case.errorCode, tostring(value.code))
    end
    if case.errorMessage ~= nil and value.message ~= case.errorMessage then
      problems[#problems + 1] = string.format("message: expected %q, got %s", case.errorMessage,
        describe_value(value.message))
    end
    if type(case.error) == "table" then
      for k, v in pairs(case.error) do
        local d = deep_diff(v, value[k], "error." .. k)
        if d then problems[#problems + 1] = d end
      end
    end
    if #problems > 0 then return table.concat(problems, "\n") end
    return nil
  end
  if not okflag then
    local e = value
    if type(e) == "table" then e = tostring(e.code) .. ": " .. tostring(e.message) end
    return "expected a result, got the error " .. tostring(e)
  end
  return deep_diff(case.result or {}, value, "result")
end

return M
