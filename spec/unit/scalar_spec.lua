-- The one scalar codec and the one JSON encoder: a value builds (or is refused) alike in every
-- protocol and in the validator, with the same text where the protocols share a spelling; JSON
-- documents and jsonvalues go through core.json_encode's encoder.
local core = require "awspromise.core"

local SCALARS = {
  Str = { type = "string" }, Int = { type = "long" }, Num = { type = "double" }, Flag = { type = "boolean" },
  When = { type = "timestamp" }, Data = { type = "blob" },
}
local NAMES = { "Str", "Int", "Num", "Flag", "When", "Data" }

-- One operation "Op" whose input has one member per scalar kind; `location` binds them in rest.
local function model(protocol, location)
  local members = {}
  for _, name in ipairs(NAMES) do
    members[name] = { shape = name }
    if location then
      members[name].location = location
      members[name].locationName = location == "header" and ("x-" .. name:lower()) or name:lower()
    end
  end
  local shapes = { In = { type = "structure", members = members } }
  for name, shape in pairs(SCALARS) do shapes[name] = shape end
  return core.model_load(core.json_encode({
    metadata = { protocol = protocol, jsonVersion = "1.1", targetPrefix = "Svc", apiVersion = "2020-01-01" },
    operations = { Op = { name = "Op", http = { method = "POST", requestUri = "/" }, input = { shape = "In" } } },
    shapes = shapes,
  }))
end

local function percent_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Each place a scalar can go, with how to read the member's text (or JSON value) back.
local PLACES = {
  { name = "json", model = model("json"), json = true },
  { name = "rest-json body", model = model("rest-json"), json = true },
  { name = "rest-json querystring", model = model("rest-json", "querystring"), text = function(req, name)
    local v = (req.query or ""):match("^" .. name:lower() .. "=([^&]*)") or (req.query or ""):match("&" .. name:lower() .. "=([^&]*)")
    return v and percent_decode(v)
  end },
  { name = "rest-xml body", model = model("rest-xml"), text = function(req, name)
    return req.body and req.body:match("<" .. name .. ">(.-)</" .. name .. ">")
  end },
  { name = "query", model = model("query"), text = function(req, name)
    local v = req.body:match("&" .. name .. "=([^&]*)")
    return v and percent_decode(v)
  end },
  { name = "rest-xml header", model = model("rest-xml", "header") },
}

-- value, member, then what it becomes: `text` where the protocols spell it alike (XML, query,
-- query string), `json` as a JSON body carries it; or refused = true.
local CASES = {
  { "Str", "abc", text = "abc", json = "abc" },
  { "Str", 5, refused = true },
  { "Str", true, refused = true },
  { "Int", 3, text = "3", json = 3 },
  { "Int", 3.0, text = "3", json = 3 },
  { "Int", -9007199254740993, text = "-9007199254740993", json = -9007199254740993 },
  { "Int", 1.5, refused = true },
  { "Int", 2.0 ^ 63, refused = true },
  { "Int", "3", refused = true },
  { "Num", 1.5, text = "1.5", json = 1.5 },
  { "Num", 0.1, text = "0.1", json = 0.1 },
  { "Num", 7, text = "7", json = 7 },
  { "Num", "NaN", text = "NaN", json = "NaN" },
  { "Num", -math.huge, text = "-Infinity", json = "-Infinity" },
  { "Num", "1.5", refused = true },
  { "Num", true, refused = true },
  { "Flag", false, text = "false", json = false },
  { "Flag", "true", refused = true },
  { "Flag", 1, refused = true },
  { "When", 1398796238, text = "2014-04-29T18:30:38Z", json = 1398796238 },
  { "When", "2014-04-29T18:30:38.5Z", text = "2014-04-29T18:30:38.500Z", json = 1398796238.5 },
  { "When", "Tue, 29 Apr 2014 18:30:38 GMT", text = "2014-04-29T18:30:38Z", json = 1398796238 },
  { "When", "not a date", refused = true },
  { "When", 0 / 0, refused = true },
  { "When", true, refused = true },
  { "Data", "bytes\0", text = "Ynl0ZXMA", json = "Ynl0ZXMA" },
  { "Data", 5, refused = true },
}

local function describe_value(v)
  if type(v) == "string" then return string.format("%q", v) end
  if v ~= v then return "NaN" end
  return string.format("%s %s", math.type(v) or type(v), tostring(v))
end

describe("the one scalar codec", function()
  for _, case in ipairs(CASES) do
    local member, value = case[1], case[2]
    local label = string.format("%s = %s", member, describe_value(value))

    it(label .. (case.refused and " is refused everywhere" or " builds alike everywhere"), function()
      for _, place in ipairs(PLACES) do
        local where = label .. " in " .. place.name
        local ok, req = pcall(core.build_request, place.model, "Op", { [member] = value })
        local verdict = core.validate(place.model, "Op", { [member] = value })
        if case.refused then
          assert.is_false(ok, where .. " built")
          assert.equal("SerializationError", req.code, where)
          assert.matches("^params%." .. member .. ": expected ", req.message)
          assert.is_table(verdict, where .. ": the validator accepted it")
          assert.equal("InvalidParameterType", verdict.code, where)
        else
          assert.is_true(ok, where .. ": " .. tostring(type(req) == "table" and req.message or req))
          assert.is_nil(verdict, where .. ": the validator refused it")
          if place.json then
            -- the one member's body is what core.json_encode writes for it, byte for byte
            assert.equal(core.json_encode({ [member] = case.json }), req.body, where)
          elseif place.text then
            assert.equal(case.text, place.text(req, member), where)
          end
        end
      end
    end)
  end

  it("spells a timestamp per place: unixTimestamp in JSON, rfc822 in headers, iso8601 elsewhere", function()
    local params = { When = 1398796238 }
    assert.equal('{"When":1398796238}', core.build_request(PLACES[1].model, "Op", params).body)
    assert.equal("Tue, 29 Apr 2014 18:30:38 GMT", core.build_request(PLACES[6].model, "Op", params).headers["x-when"])
    assert.equal("2014-04-29T18:30:38Z", PLACES[5].text(core.build_request(PLACES[5].model, "Op", params), "When"))
  end)
end)

-- Reading: the same text reads as the same value in XML bodies, headers and JSON strings.
describe("wire text to values", function()
  local XML_OUT = core.model_load(core.json_encode({
    metadata = { protocol = "rest-xml" },
    operations = { Op = { name = "Op", http = { method = "GET", requestUri = "/" }, output = { shape = "Out" } } },
    shapes = {
      Out = { type = "structure", members = {
        Int = { shape = "Int" }, Flag = { shape = "Flag" }, Num = { shape = "Num" },
        HInt = { shape = "Int", location = "header", locationName = "x-int" },
        HFlag = { shape = "Flag", location = "header", locationName = "x-flag" },
        HNum = { shape = "Num", location = "header", locationName = "x-num" },
      } },
      Int = { type = "integer" }, Flag = { type = "boolean" }, Num = { type = "double" },
    },
  }))
  local JSON_OUT = core.model_load(core.json_encode({
    metadata = { protocol = "json", jsonVersion = "1.1", targetPrefix = "Svc" },
    operations = { Op = { name = "Op", http = { method = "POST", requestUri = "/" }, output = { shape = "Out" } } },
    shapes = {
      Out = { type = "structure", members = { Int = { shape = "Int" }, Flag = { shape = "Flag" }, Num = { shape = "Num" } } },
      Int = { type = "integer" }, Flag = { type = "boolean" }, Num = { type = "double" },
    },
  }))

  local function read(int, flag, num)
    local xml = string.format("<Out><Int>%s</Int><Flag>%s</Flag><Num>%s</Num></Out>", int, flag, num)
    local _, from_xml = core.parse_response(XML_OUT, "Op", { statusCode = 200, body = xml,
      headers = { ["x-int"] = int, ["x-flag"] = flag, ["x-num"] = num } })
    local _, from_json = core.parse_response(JSON_OUT, "Op", { statusCode = 200, headers = {},
      body = core.json_encode({ Int = int, Flag = flag, Num = num }) })
    return {
      { from_xml.Int, from_xml.Flag, from_xml.Num },
      { from_xml.HInt, from_xml.HFlag, from_xml.HNum },
      { from_json.Int, from_json.Flag, from_json.Num },
    }
  end

  it("reads integers, booleans and floats alike in XML, headers and JSON strings", function()
    for i, got in ipairs(read(" 42 ", "false", "Infinity")) do
      assert.equal(42, got[1], "place " .. i)
      assert.equal("integer", math.type(got[1]), "place " .. i)
      assert.equal(false, got[2], "place " .. i)
      assert.equal(math.huge, got[3], "place " .. i)
    end
  end)

  it("leaves out what does not read as the member's kind, everywhere", function()
    for i, got in ipairs(read("42abc", "yes", "1.5x")) do
      assert.is_nil(got[1], "place " .. i)
      assert.is_nil(got[2], "place " .. i)
      assert.is_nil(got[3], "place " .. i)
    end
  end)
end)

describe("the one JSON encoder", function()
  local DOC_MODEL = core.model_load(core.json_encode({
    metadata = { protocol = "json", jsonVersion = "1.1", targetPrefix = "Svc" },
    operations = { Op = { name = "Op", http = { method = "POST", requestUri = "/" }, input = { shape = "In" } } },
    shapes = {
      In = { type = "structure", members = {
        Doc = { shape = "Doc" }, Meta = { shape = "Meta" }, Tags = { shape = "Tags" }, Name = { shape = "S" },
      } },
      Doc = { type = "structure", document = true },
      Meta = { type = "string", jsonvalue = true },
      Tags = { type = "map", key = { shape = "S" }, value = { shape = "S" } },
      S = { type = "string" },
    },
  }))
  local HEADER_MODEL = core.model_load(core.json_encode({
    metadata = { protocol = "rest-json" },
    operations = { Op = { name = "Op", http = { method = "POST", requestUri = "/" }, input = { shape = "In" } } },
    shapes = {
      In = { type = "structure", members = { Meta = { shape = "Meta", location = "header", locationName = "x-meta" } } },
      Meta = { type = "string", jsonvalue = true },
    },
  }))

  local function body(params) return core.build_request(DOC_MODEL, "Op", params).body end

  it("refuses NaN in a document, naming the member path, as core.json_encode does", function()
    local ok, err = pcall(core.build_request, DOC_MODEL, "Op", { Doc = { a = { 1, 0 / 0 } } })
    assert.is_false(ok)
    assert.equal("SerializationError", err.code)
    assert.equal("the number at params.Doc.a[2] is NaN, which JSON cannot represent", err.message)
    local eok, eerr = pcall(core.json_encode, { a = { 1, 0 / 0 } })
    assert.is_false(eok)
    assert.equal("json_encode: the number at $.a[2] is NaN, which JSON cannot represent", eerr:match("json_encode: .*"))
  end)

  it("writes a nil hole of a list with n (table.pack) as null, in documents and in core.json_encode", function()
    assert.equal("[1,null,3]", core.json_encode(table.pack(1, nil, 3)))
    assert.equal("[1,null]", core.json_encode(table.pack(1, nil)))
    assert.equal('{"Doc":[1,null,3]}', body({ Doc = table.pack(1, nil, 3) }))
    assert.equal('{"Doc":{"l":["a",null]}}', body({ Doc = { l = table.pack("a", nil) } }))
    -- without n a key "n" is just a key
    assert.equal('{"n":2}', core.json_encode({ n = 2 }))
  end)

  it("writes documents byte for byte as core.json_encode: sorted keys, exact integers", function()
    local doc = { z = 1, a = { 9007199254740993, 0.1, true, "é" }, m = { y = core.null } }
    assert.equal('{"Doc":' .. core.json_encode(doc) .. "}", body({ Doc = doc }))
    assert.equal('{"Doc":{"a":[9007199254740993,0.1,true,"é"],"m":{"y":null},"z":1}}', body({ Doc = doc }))
  end)

  it("sends a jsonvalue table as its JSON text: a JSON string in a body, base64 in a header", function()
    local meta = { b = { 1, 2 }, a = "x" }
    local text = core.json_encode(meta)
    assert.equal('{"Meta":' .. core.json_encode(text) .. "}", body({ Meta = meta }))
    local req = core.build_request(HEADER_MODEL, "Op", { Meta = meta })
    assert.equal("eyJhIjoieCIsImIiOlsxLDJdfQ==", req.headers["x-meta"])
    assert.is_nil(core.validate(DOC_MODEL, "Op", { Meta = meta }))
    local ok, err = pcall(core.build_request, DOC_MODEL, "Op", { Meta = { x = 0 / 0 } })
    assert.is_false(ok)
    assert.matches("^params%.Meta: expected a string or a JSON value", err.message)
  end)

  it("writes map keys sorted, as the XML and query bodies do", function()
    assert.equal('{"Tags":{"a":"1","b":"2","c":"3"}}', body({ Tags = { c = "3", a = "1", b = "2" } }))
  end)

  it("refuses a string that is not UTF-8, naming it", function()
    local ok, err = pcall(core.build_request, DOC_MODEL, "Op", { Name = "ab\255" })
    assert.is_false(ok)
    assert.equal("params.Name: the string is not valid UTF-8 (at byte 3); send bytes as a blob", err.message)
  end)
end)
