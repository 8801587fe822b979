-- AWS.util: the documented subset of JavaScript v2's helpers (util.lua), checked against known
-- answers (RFC 4231 / RFC 1321 / FIPS 180 test vectors and JavaScript v2's own outputs).
local AWS = require "awspromise"
local util = AWS.util

describe("AWS.util", function()
  it("base64 encodes and decodes, and refuses text that is not base64", function()
    assert.equal("aGVsbG8gd29ybGQ=", util.base64.encode("hello world"))
    assert.equal("hello world", util.base64.decode("aGVsbG8gd29ybGQ="))
    assert.equal("", util.base64.encode(""))
    assert.has_error(function() util.base64.decode("*not*") end)
  end)

  it("makes version 4 UUIDs", function()
    local a, b = util.uuid.v4(), util.uuid.v4()
    assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$", a)
    assert.not_equal(a, b)
  end)

  it("crypto: hmac, md5, sha1, sha256 in raw, hex and base64, and crc32", function()
    local fox = "The quick brown fox jumps over the lazy dog"
    assert.equal("f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
      util.crypto.hmac("key", fox, "hex"))
    assert.equal("de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9", util.crypto.hmac("key", fox, "hex", "sha1"))
    assert.equal("80070713463e7749b90c2dc24911e275", util.crypto.hmac("key", fox, "hex", "md5"))
    assert.equal(32, #util.crypto.hmac("key", fox))
    assert.equal("9e107d9d372bb6826bd81d3542a419d6", util.crypto.md5(fox, "hex"))
    assert.equal("nhB9nTcrtoJr2B01QqQZ1g==", util.crypto.md5(fox, "base64"))
    assert.equal("2fd4e1c67a2d28fced849ee1bb76e7391b93eb12", util.crypto.sha1(fox, "hex"))
    assert.equal("d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592", util.crypto.sha256(fox, "hex"))
    assert.equal(0x414FA339, util.crypto.crc32(fox))
    assert.equal(0, util.crypto.crc32(""))
    assert.equal("00ff", util.crypto.toHex("\0\255"))
    assert.has_error(function() util.crypto.hmac("k", "d", "hex", "sha512") end)
    assert.has_error(function() util.crypto.md5("x", "octal") end)
  end)

  it("date: iso8601, rfc822, unixTimestamp of epoch seconds", function()
    assert.equal("2014-04-29T18:30:38.000Z", util.date.iso8601(1398796238))
    assert.equal("2014-04-29T18:30:38.500Z", util.date.iso8601(1398796238.5))
    assert.equal("Tue, 29 Apr 2014 18:30:38 GMT", util.date.rfc822(1398796238))
    assert.equal(1398796238, util.date.unixTimestamp(1398796238))
    assert.is_true(math.abs(util.date.getDate() - os.time()) <= 1)
  end)

  it("string.byteLength counts bytes, not characters", function()
    assert.equal(0, util.string.byteLength(nil))
    assert.equal(6, util.string.byteLength("héllo"))
    assert.equal("Abc", util.string.upperFirst("abc"))
    assert.equal("aBC", util.string.lowerFirst("ABC"))
  end)

  it("uriEscape and uriEscapePath as RFC 3986 wants", function()
    assert.equal("a%20b%2Fc~d%2A", util.uriEscape("a b/c~d*"))
    assert.equal("a%20b/c~d%2A", util.uriEscapePath("a b/c~d*"))
  end)

  it("queryParamsToString sorts names and list values", function()
    assert.equal("a=1&b=x%20y&c=&l=1&l=2", util.queryParamsToString({b = "x y", a = 1, c = false, l = {"2", "1"}}))
  end)

  it("copy, merge, update, each", function()
    local a = {x = 1, y = 2}
    local c = util.copy(a)
    c.x = 9
    assert.equal(1, a.x)
    assert.same({x = 1, y = 3, z = 4}, util.merge(a, {y = 3, z = 4}))
    assert.same({x = 1, y = 2}, a)
    util.update(a, {w = 0})
    assert.equal(0, a.w)
    local seen = 0
    util.arrayEach({1, 2, 3}, function(v) seen = seen + 1 if v == 2 then return util.abort end end)
    assert.equal(2, seen)
  end)
end)
