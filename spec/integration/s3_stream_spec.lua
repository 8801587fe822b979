-- request:createReadStream() against s3rver behind the front: read(), lines(), pipe() to a file
-- and to a function, the request's error for a missing key, and the body never gathered.
local AWS = require "awspromise"
local local_aws = require "support.local_aws"

describe("S3 response streams (createReadStream)", function()
  local s3, bucket
  local big = ("0123456789abcdef"):rep(65536 * 3) -- 3 MiB

  setup(function()
    s3 = AWS.S3(local_aws.get().options("s3"))
    bucket = "stream-" .. os.time()
    s3:createBucket({Bucket = bucket}):promise():await()
    s3:putObject({Bucket = bucket, Key = "big.bin", Body = big}):promise():await()
    s3:putObject({Bucket = bucket, Key = "lines.txt", Body = "one\ntwo\n\nfour"}):promise():await()
  end)

  it("read() yields the body in bounded chunks, then nil; the data's Body stays empty", function()
    local req = s3:getObject {Bucket = bucket, Key = "big.bin"}
    local stream = req:createReadStream()
    assert.equal(stream, req:createReadStream())
    local parts, largest = {}, 0
    while true do
      local chunk = stream:read():await()
      if chunk == nil then break end
      parts[#parts + 1] = chunk
      largest = math.max(largest, #chunk)
    end
    assert.is_true(table.concat(parts) == big, "the streamed body differs")
    assert.is_true(largest <= 128 * 1024, "a chunk of " .. largest .. " bytes")
    local data = req:promise():await()
    assert.equal("", data.Body)
    assert.equal(#big, data.ContentLength)
  end)

  it("pipe() writes into a file handle and into a function", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    local n = s3:getObject({Bucket = bucket, Key = "big.bin"}):createReadStream():pipe(f):await()
    f:close()
    assert.equal(#big, n)
    f = assert(io.open(path, "rb"))
    assert.is_true(f:read("a") == big)
    f:close()
    os.remove(path)
    local seen = {}
    s3:getObject({Bucket = bucket, Key = "lines.txt"}):createReadStream():pipe(function(c) seen[#seen + 1] = c end):await()
    assert.equal("one\ntwo\n\nfour", table.concat(seen))
  end)

  it("lines() iterates the lines, the last one without its newline", function()
    local lines = {}
    for line in s3:getObject({Bucket = bucket, Key = "lines.txt"}):createReadStream():lines() do lines[#lines + 1] = line end
    assert.same({"one", "two", "", "four"}, lines)
  end)

  it("a missing key rejects read() with the parsed S3 error", function()
    local stream = s3:getObject({Bucket = bucket, Key = "absent"}):createReadStream()
    local ok, err = pcall(function() return stream:read():await() end)
    assert.is_false(ok)
    assert.equal("NoSuchKey", err.code)
    assert.equal(404, err.statusCode)
  end)

  it("a zero-byte object's Body is an empty string, not nil", function()
    s3:putObject({Bucket = bucket, Key = "empty", Body = ""}):promise():await()
    local data = s3:getObject({Bucket = bucket, Key = "empty"}):promise():await()
    assert.equal("", data.Body)
    assert.equal(0, data.ContentLength)
  end)

  it("refuses createReadStream on a request already sent", function()
    local req = s3:getObject {Bucket = bucket, Key = "lines.txt"}
    req:promise():await()
    local ok, err = pcall(req.createReadStream, req)
    assert.is_false(ok)
    assert.equal("InvalidParameter", err.code)
  end)
end)
