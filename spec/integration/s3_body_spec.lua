-- Streaming request bodies against s3rver behind the signature-checking front: putObject's Body
-- as a file handle (known length) and as a reader function (unknown length: chunked), a reader
-- that raises, and the uploading process's peak memory for a file larger than that peak; then,
-- against the fault server's in-memory S3 (a part that fails once), which bodies are retried.
local AWS = require "awspromise"
local core = require "awspromise.core"
local local_aws = require "support.local_aws"
local servers = require "support.servers"

-- Writes `size` bytes of a varied pattern to a new temporary file; returns its path.
local function make_file(size)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  local written, n = 0, 0
  while written < size do
    n = n + 1
    local piece = (string.format("%08x", n * 2654435761 % 4294967296)):rep(8192):sub(1, size - written)
    f:write(piece)
    written = written + #piece
  end
  f:close()
  return path
end

local MiB = 1024 * 1024

local function slurp(path)
  local pieces = {}
  for piece in io.lines(path, MiB) do pieces[#pieces + 1] = piece end
  return table.concat(pieces)
end

describe("S3 streaming uploads (Body as a file handle or a reader)", function()
  local s3, bucket, options

  setup(function()
    options = local_aws.get().options("s3")
    s3 = AWS.S3(options)
    bucket = "upload-stream-" .. os.time()
    s3:createBucket({Bucket = bucket}):promise():await()
  end)

  it("a 20 MiB file sent by its handle reads back equal (size and MD5)", function()
    local path = make_file(20 * MiB)
    local f = assert(io.open(path, "rb"))
    s3:putObject({Bucket = bucket, Key = "file.bin", Body = f}):promise():await()
    f:close()
    local data = s3:getObject({Bucket = bucket, Key = "file.bin"}):promise():await()
    local expected = slurp(path)
    os.remove(path)
    assert.equal(#expected, #data.Body)
    assert.equal(20 * MiB, data.ContentLength)
    assert.equal(core.crypto.md5(expected, "hex"), core.crypto.md5(data.Body, "hex"))
  end)

  it("a reader function of unknown length is sent chunked and reads back equal", function()
    local pieces, i = {}, 0
    for k = 1, 40 do pieces[k] = string.rep(string.char(64 + k % 26), 1000 + k * 997) end
    local reader = function()
      i = i + 1
      return pieces[i]
    end
    s3:putObject({Bucket = bucket, Key = "reader.bin", Body = reader}):promise():await()
    local data = s3:getObject({Bucket = bucket, Key = "reader.bin"}):promise():await()
    assert.is_true(data.Body == table.concat(pieces), "the object differs from what the reader gave")
    assert.equal(41, i) -- every piece, then the nil that ends the body
  end)

  it("a reader that raises rejects the request with that error", function()
    local calls = 0
    local reader = function()
      calls = calls + 1
      if calls == 1 then return ("x"):rep(100000) end
      error("the disk is on fire")
    end
    local ok, err = pcall(function()
      return s3:putObject({Bucket = bucket, Key = "broken.bin", Body = reader}):promise():await()
    end)
    assert.is_false(ok)
    assert.equal("RequestBodyError", err.code)
    assert.matches("the disk is on fire", err.message, 1, true)
    assert.equal(2, calls)
    local raised = require("awspromise.promise").make_error("MyReadError", "custom")
    ok, err = pcall(function()
      return s3:putObject({Bucket = bucket, Key = "broken.bin", Body = function() error(raised, 0) end}):promise():await()
    end)
    assert.is_false(ok)
    assert.equal("MyReadError", err.code)
  end)

  it("uploading a 64 MiB file by handle peaks well under the file's size", function()
    if (os.getenv("LD_PRELOAD") or ""):find("asan", 1, true) then
      return pending("the child's peak RSS means nothing under ASan's shadow memory (make asan)")
    end
    local size = 64 * MiB
    local path = make_file(size)
    local script = [[
      local AWS = require "awspromise"
      local f = assert(io.open(os.getenv("UPLOAD_FILE"), "rb"))
      local s3 = AWS.S3({region = os.getenv("UPLOAD_REGION"), endpoint = os.getenv("UPLOAD_ENDPOINT"),
        s3ForcePathStyle = true, credentials = {accessKeyId = os.getenv("UPLOAD_KEY"),
        secretAccessKey = os.getenv("UPLOAD_SECRET")}})
      s3:putObject({Bucket = os.getenv("UPLOAD_BUCKET"), Key = "big.bin", Body = f}):promise():await()
      for line in io.lines("/proc/self/status") do
        local kb = line:match("^VmHWM:%s+(%d+)")
        if kb then print(kb) end
      end
    ]]
    local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
    local cmd = table.concat({
      "LUA_PATH=" .. q(package.path), "LUA_CPATH=" .. q(package.cpath),
      "UPLOAD_FILE=" .. q(path), "UPLOAD_REGION=" .. q(options.region), "UPLOAD_ENDPOINT=" .. q(options.endpoint),
      "UPLOAD_KEY=" .. q(options.credentials.accessKeyId), "UPLOAD_SECRET=" .. q(options.credentials.secretAccessKey),
      "UPLOAD_BUCKET=" .. q(bucket), "lua5.4 -e " .. q(script) .. " 2>&1"}, " ")
    local child = assert(io.popen(cmd))
    local out = child:read("a")
    child:close()
    os.remove(path)
    local peak_kb = tonumber(out:match("^(%d+)%s*$"))
    assert(peak_kb, "the child did not report its peak memory: " .. out)
    assert.is_true(peak_kb * 1024 < size / 2, ("peak RSS %d KiB for a %d MiB upload"):format(peak_kb, size // MiB))
    local head = s3:headObject({Bucket = bucket, Key = "big.bin"}):promise():await()
    assert.equal(size, head.ContentLength)
  end)
end)

describe("S3 streaming uploads: retries", function()
  local server, s3

  setup(function()
    server = servers.start("spec/support/fault_server.py")
    s3 = AWS.S3({endpoint = server.url .. "/s3mp", region = "us-east-1", s3ForcePathStyle = true,
      maxRetries = 2, retryDelayOptions = {base = 1}, credentials = {accessKeyId = "AKID", secretAccessKey = "SECRET"}})
  end)
  teardown(function() server.stop() end)

  local function start_upload(key)
    return s3:createMultipartUpload({Bucket = "sb", Key = key}):promise():await().UploadId
  end

  it("a part from a file handle that fails once is sent again from the file's start", function()
    local path = make_file(MiB + 123)
    local f = assert(io.open(path, "rb"))
    assert(f:seek("set", 123)) -- the body starts where the handle stands
    local id = start_upload("flaky-part-1.bin")
    local before = server.json("GET", "/s3mp/_stats").uploadParts
    s3:uploadPart({Bucket = "sb", Key = "flaky-part-1.bin", UploadId = id, PartNumber = 1, Body = f}):promise():await()
    f:close()
    assert.equal(before + 2, server.json("GET", "/s3mp/_stats").uploadParts, "the failed try and the retry")
    local parts = s3:listParts({Bucket = "sb", Key = "flaky-part-1.bin", UploadId = id}):promise():await().Parts
    local expected = slurp(path):sub(124)
    os.remove(path)
    assert.equal(1, #parts)
    assert.equal(#expected, parts[1].Size)
    assert.equal('"' .. core.crypto.md5(expected, "hex") .. '"', parts[1].ETag)
  end)

  it("a part from a reader function that fails after handing out bytes is not retried, and says why", function()
    local id = start_upload("flaky-part-1.reader")
    local before = server.json("GET", "/s3mp/_stats").uploadParts
    local sent = false
    local reader = function()
      if sent then return nil end
      sent = true
      return ("r"):rep(5000)
    end
    local ok, err = pcall(function()
      return s3:uploadPart({Bucket = "sb", Key = "flaky-part-1.reader", UploadId = id, PartNumber = 1,
        ContentLength = 5000, Body = reader}):promise():await()
    end)
    assert.is_false(ok)
    assert.equal("InternalError", err.code)
    assert.is_false(err.retryable)
    assert.matches("cannot be replayed", err.message, 1, true)
    assert.equal(before + 1, server.json("GET", "/s3mp/_stats").uploadParts, "one try only")
  end)
end)
