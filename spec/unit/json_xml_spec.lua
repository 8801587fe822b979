-- core.json_decode / json_encode (cJSON-backed decoder, own encoder) and core.xml_decode (expat).
local core = require "awspromise.core"

local decode, encode = core.json_decode, core.json_encode

local function raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error matching " .. pattern)
  assert.matches(pattern, tostring(err))
  return err
end

describe("json_decode", function()
  it("maps objects, arrays, strings, booleans and null", function()
    local v = decode('{"a": [1, "two", true, false, null], "o": {"k": "v"}, "e": [], "eo": {}}')
    assert.same({1, "two", true, false, core.null}, v.a)
    assert.equal("v", v.o.k)
    assert.same({}, v.e)
    assert.same({}, v.eo)
    assert.equal(core.null, v.a[5])
    assert.equal("userdata", type(core.null))
  end)

  it("gives integers for integral numbers in range and floats otherwise", function()
    local v = decode('[42, -7, 0, 2.5, 1e2, 1.5e-3, 1e300, 9007199254740992]')
    assert.equal("integer", math.type(v[1]))
    assert.equal(-7, v[2])
    assert.equal("integer", math.type(v[3]))
    assert.equal("float", math.type(v[4]))
    assert.equal(2.5, v[4])
    assert.equal("integer", math.type(v[5]))
    assert.equal(100, v[5])
    assert.equal(1.5e-3, v[6])
    assert.equal("float", math.type(v[7]))
    assert.equal(9007199254740992, v[8])
    assert.equal("float", math.type(decode("1e19")))
  end)

  it("decodes escapes and UTF-8, surrogate pairs included", function()
    assert.equal('a"b\\c/\n\t\r\b\f', decode([["a\"b\\c\/\n\t\r\b\f"]]))
    assert.equal("é€", decode([["\u00e9\u20ac"]]))
    assert.equal("😀", decode([["\ud83d\ude00"]]))
    assert.equal("ünï", decode('"ünï"'))
  end)

  it("accepts scalars at the top level and surrounding blanks", function()
    assert.equal(3, decode(" 3 \n"))
    assert.equal("x", decode('"x"'))
    assert.equal(core.null, decode("null"))
    assert.is_true(decode("true"))
  end)

  it("keeps nesting", function()
    local v = decode('{"a":{"b":{"c":[[1],[2,[3]]]}}}')
    assert.equal(3, v.a.b.c[2][2][1])
  end)

  it("raises errors that say what and where", function()
    raises("^json_decode: invalid JSON at line 2, column 8 %(offset 13, at ','%)", decode, '{"a":\n [1, 2,, 3]}')
    raises("^json_decode: unexpected data after the JSON value at line 1, column 10", decode, '{"a": 1} x')
    raises("^json_decode: empty input", decode, "   ")
    raises("unexpected end of input", decode, '{"a": ')
    raises("invalid JSON", decode, "{'a': 1}")
    raises("bad argument #1", decode, nil)
  end)

  it("json_decode_safe returns nil and the message instead of raising", function()
    local v, err = core.json_decode_safe("[1, 2")
    assert.is_nil(v)
    assert.matches("^json_decode: invalid JSON", err)
    assert.same({1, 2}, (core.json_decode_safe("[1, 2]")))
  end)

  it("does not quote the input in its errors (it may be a credential document)", function()
    local _, err = core.json_decode_safe('{"SecretAccessKey": "wJalrXUtnFEMI", oops}')
    assert.is_nil(err:find("wJalrXUtnFEMI", 1, true))
  end)
end)

describe("json_encode", function()
  it("encodes scalars", function()
    assert.equal("null", encode(nil))
    assert.equal("null", encode(core.null))
    assert.equal("true", encode(true))
    assert.equal("12", encode(12))
    assert.equal("-3", encode(-3))
    assert.equal("1.5", encode(1.5))
    assert.equal('"x"', encode("x"))
  end)

  it("keeps 64-bit integers exact and floats round-trippable", function()
    assert.equal("9223372036854775807", encode(math.maxinteger))
    assert.equal("-9223372036854775808", encode(math.mininteger))
    for _, x in ipairs {0.1, 1 / 3, 123456.789, 1e-300, 2 ^ 60 + 0.0, -2.5e17} do
      assert.equal(x, tonumber(encode(x)))
    end
  end)

  it("sorts object keys so that equal tables give equal text", function()
    assert.equal('{"a":1,"b":{"x":[1,2],"y":null},"c":"z"}',
      encode {c = "z", b = {y = core.null, x = {1, 2}}, a = 1})
  end)

  it("encodes sequences as arrays and the empty table as an object", function()
    assert.equal("[1,2,3]", encode {1, 2, 3})
    assert.equal("{}", encode {})
    assert.equal("[[],{}]", encode {setmetatable({}, core.json_array_mt), {}})
    assert.equal("[1,null,3]", encode {1, nil, 3})
  end)

  it("honours __jsontype = 'object' for integer keys", function()
    assert.equal('{"1":"a","2":"b"}', encode(setmetatable({"a", "b"}, core.json_object_mt)))
  end)

  it("escapes quotes, backslashes and control characters, and keeps NUL bytes", function()
    assert.equal([["a\"b\\c\n\t\u0001\u0000d/é"]], encode('a"b\\c\n\t\1\0d/é'))
  end)

  it("round-trips through json_decode", function()
    local v = {name = "x", list = {1, 2.5, "three", {deep = true}}, empty = {}, n = core.null,
      unicode = "ü😀", big = 1 << 52}
    assert.same(v, decode(encode(v)))
  end)

  it("names the path and the problem of what it cannot encode", function()
    raises("^json_encode: cannot encode the value at %$%.a%.b%[3%]: a function has no JSON form",
      encode, {a = {b = {1, 2, print}}})
    local t = {}
    t.self = {t}
    raises("^json_encode: the table at %$%.self%[1%] contains itself %(a cycle%)", encode, t)
    raises("mixes integer and string keys", encode, {1, 2, x = 3})
    raises("too sparse to be an array %(2 elements, highest index 1000%)", encode, {[1] = 1, [1000] = 2})
    raises("the string at %$%.s is not valid UTF%-8", encode, {s = "ok\xff"})
    raises("the number at %$%[1%] is NaN", encode, {0 / 0})
    raises("is infinite", encode, {x = math.huge})
    raises("key of type boolean", encode, {[true] = 1})
    raises("cannot encode the value at %$: a userdata", encode, io.stdout)
  end)

  it("json_encode_safe returns nil and the message instead of raising", function()
    local v, err = core.json_encode_safe({f = print})
    assert.is_nil(v)
    assert.matches("^json_encode: cannot encode the value at %$%.f", err)
    assert.equal("[1]", (core.json_encode_safe({1})))
  end)

  it("survives deep nesting up to the limit and refuses beyond", function()
    local deep = {}
    local cur = deep
    for _ = 1, 900 do
      cur[1] = {}
      cur = cur[1]
    end
    local text = encode(deep)
    assert.equal(900, #text:match("^%[*"))
    assert.equal(decode(text)[1][1][1][1] ~= nil, true)
    local deeper = {}
    cur = deeper
    for _ = 1, 1100 do
      cur[1] = {}
      cur = cur[1]
    end
    raises("nesting deeper than 1000 levels", encode, deeper)
  end)
end)

describe("xml_decode", function()
  local doc = [==[<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIA123</AccessKeyId>
      <Blank> </Blank>
      <Empty/>
      <?pi ignored?>
      <s3:Grantee xmlns:s3="urn:s3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser" id="7">a &amp; b &lt;<![CDATA[<raw>]]>c</s3:Grantee>
    </Credentials>
  </AssumeRoleResult>
</AssumeRoleResponse>]==]

  it("returns the document element as {name, ns, attrs, children...}", function()
    local root = core.xml_decode(doc)
    assert.equal("AssumeRoleResponse", root.name)
    assert.equal("https://sts.amazonaws.com/doc/2011-06-15/", root.ns)
    assert.same({}, root.attrs)
    assert.equal(1, #root)
    local creds = root[1][1]
    assert.equal("Credentials", creds.name)
    assert.equal(4, #creds) -- indentation, the comment and the PI are gone
    assert.same({"ASIA123"}, {table.unpack(creds[1])})
    assert.equal(" ", creds[2][1]) -- text-only elements keep their blanks
    assert.equal(0, #creds[3])
  end)

  it("drops namespace prefixes from element and attribute names", function()
    local g = core.xml_decode(doc)[1][1][4]
    assert.equal("Grantee", g.name)
    assert.equal("urn:s3", g.ns)
    assert.equal("CanonicalUser", g.attrs.type)
    assert.equal("7", g.attrs.id)
    assert.is_nil(g.attrs["xsi:type"])
  end)

  it("joins text, entity references and CDATA into one string", function()
    local g = core.xml_decode(doc)[1][1][4]
    assert.equal(1, #g)
    assert.equal("a & b <<raw>c", g[1])
  end)

  it("keeps mixed content in document order", function()
    local r = core.xml_decode("<p>one <b>two</b> three</p>")
    assert.equal("one ", r[1])
    assert.equal("two", r[2][1])
    assert.equal(" three", r[3])
  end)

  it("raises errors with the expat reason and the position", function()
    raises("^xml_decode: mismatched tag at line 1, column 9", core.xml_decode, "<a><b></a>")
    raises("^xml_decode: no element found", core.xml_decode, "")
    raises("^xml_decode: .* at line 2", core.xml_decode, "<a>\n<b x='1' x='2'/></a>")
    raises("unbound prefix", core.xml_decode, "<p:a/>")
    raises("nested deeper than 512 levels", core.xml_decode, ("<a>"):rep(600) .. ("</a>"):rep(600))
  end)

  it("xml_decode_safe returns nil and the message instead of raising", function()
    local v, err = core.xml_decode_safe("<a>")
    assert.is_nil(v)
    assert.matches("^xml_decode: ", err)
    assert.equal("a", core.xml_decode_safe("<a/>").name)
  end)

  it("does not load external entities and stops entity expansion bombs", function()
    local r = core.xml_decode_safe([[<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY ext SYSTEM "file:///etc/passwd">]><r>x&ext;y</r>]])
    if r then
      for _, child in ipairs(r) do assert.is_nil(tostring(child):find("root:", 1, true)) end
    end
    local bomb = {'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e0 "lollollollollollollollollollol">'}
    for i = 1, 12 do bomb[#bomb + 1] = ("<!ENTITY e%d '%s'>"):format(i, ("&e%d;"):format(i - 1):rep(10)) end
    bomb[#bomb + 1] = "]><r>&e12;</r>"
    local t0 = os.clock()
    local v, err = core.xml_decode_safe(table.concat(bomb))
    assert.is_nil(v)
    assert.matches("^xml_decode: ", err)
    assert.is_true(os.clock() - t0 < 5)
  end)
end)
