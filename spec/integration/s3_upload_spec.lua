-- s3:upload (the managed upload) against s3rver behind the SigV4-checking front, and against the
-- fault server's in-memory S3 (spec/support/mini_s3.py) for what s3rver lacks: aborting an upload
-- and listing what is left of it.
local AWS = require "awspromise"
local support = require "support.loop"
local local_aws = require "support.local_aws"
local servers = require "support.servers"
local Promise = require "awspromise.promise"

local MiB = 1024 * 1024

-- A body of n bytes whose every 16-byte run differs, so that a part out of place shows.
local function body_of(n)
  local runs = {}
  for i = 1, n // 16 + 1 do runs[i] = ("%015d\n"):format(i) end
  return table.concat(runs):sub(1, n)
end

local function reader_over(s, chunk)
  local at = 1
  return function()
    if at > #s then return nil end
    local piece = s:sub(at, at + chunk - 1)
    at = at + chunk
    return piece
  end
end

describe("s3:upload against s3rver", function()
  local s3, bucket
  local body = body_of(2 * 5 * MiB + 1000) -- three parts of the default 5 MiB

  setup(function()
    s3 = AWS.S3(local_aws.get().options("s3"))
    bucket = "upload-" .. os.time()
    s3:createBucket({Bucket = bucket}):promise():await()
  end)

  local function object(key)
    return s3:getObject({Bucket = bucket, Key = key}):promise():await().Body
  end

  it("uploads three parts in parallel, with progress events up to the total", function()
    local events = {}
    local up = s3:upload({Bucket = bucket, Key = "three.bin", Body = body, ContentType = "text/plain"}, {queueSize = 3})
    up:on("httpUploadProgress", function(p) events[#events + 1] = p end)
    local data = up:promise():await()
    assert.equal(bucket, data.Bucket)
    assert.equal("three.bin", data.Key)
    assert.is_string(data.ETag)
    assert.truthy(data.Location:find("/" .. bucket .. "/three.bin", 1, true), data.Location)
    assert.is_true(object("three.bin") == body, "the uploaded object differs from the body")
    local head = s3:headObject({Bucket = bucket, Key = "three.bin"}):promise():await()
    assert.equal("text/plain", head.ContentType)
    assert.is_true(#events >= 3)
    local parts, last = {}, 0
    for _, e in ipairs(events) do
      parts[e.part] = true
      assert.equal(#body, e.total)
      assert.equal("three.bin", e.key)
      assert.is_true(e.loaded >= last, "loaded went down")
      last = e.loaded
    end
    assert.same({true, true, true}, parts)
    assert.equal(#body, last)
  end)

  it("a body below one part is one putObject", function()
    local events = {}
    local data = s3:upload({Bucket = bucket, Key = "small.txt", Body = "small body"})
      :on("httpUploadProgress", function(p) events[#events + 1] = p end):promise():await()
    assert.equal("small.txt", data.Key)
    assert.is_string(data.ETag)
    assert.equal("small body", object("small.txt"))
    assert.equal(10, events[#events].loaded)
    assert.equal(10, events[#events].total)
    assert.equal(1, events[#events].part)
  end)

  it("tags a multipart upload once it is complete (putObjectTagging)", function()
    s3:upload({Bucket = bucket, Key = "tagged.bin", Body = body}, {tags = {{Key = "team", Value = "lua c"}}})
      :promise():await()
    local tags = s3:getObjectTagging({Bucket = bucket, Key = "tagged.bin"}):promise():await()
    assert.same({{Key = "team", Value = "lua c"}}, tags.TagSet) -- (s3rver's XML reply breaks on '&')
  end)

  it("a reader function of unknown length goes in parts until it ends", function()
    local events = {}
    local up = s3:upload({Bucket = bucket, Key = "reader.bin", Body = reader_over(body, 64 * 1024 + 7)})
    up:on("httpUploadProgress", function(p) events[#events + 1] = p end)
    up:promise():await()
    assert.is_true(object("reader.bin") == body, "the uploaded object differs from the reader's bytes")
    local final = events[#events]
    assert.equal(#body, final.loaded)
    assert.equal(#body, final.total)
  end)

  it("a file handle is read one part at a time; send(cb) reports the result", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(body)
    f:close()
    f = assert(io.open(path, "rb"))
    local failure, result = table.unpack(Promise.new(function(fulfill)
      s3:upload({Bucket = bucket, Key = "file.bin", Body = f}, function(err, data) fulfill({err or false, data}) end)
    end):await())
    f:close()
    os.remove(path)
    assert.is_false(failure)
    assert.equal("file.bin", result.Key)
    assert.is_true(object("file.bin") == body, "the uploaded object differs from the file")
  end)

  it("an upload to a missing bucket rejects with S3's error", function()
    local state, err = support.settle(s3:upload({Bucket = bucket .. "-absent", Key = "k", Body = body}):promise())
    assert.equal("rejected", state)
    assert.equal("NoSuchBucket", err.code)
  end)
end)

describe("s3:upload failures and aborts (in-memory S3)", function()
  local server, s3
  local body = body_of(3 * 5 * MiB)

  setup(function()
    server = servers.start("spec/support/fault_server.py")
    s3 = AWS.S3({endpoint = server.url .. "/s3mp", region = "us-east-1", s3ForcePathStyle = true, maxRetries = 0,
      credentials = {accessKeyId = "AKID", secretAccessKey = "SECRET"}})
  end)
  teardown(function() server.stop() end)

  local function uploads_left(bucket)
    return s3:listMultipartUploads({Bucket = bucket}):promise():await().Uploads or {}
  end

  it("abort() stops the parts and aborts the upload: no parts are left", function()
    local up = s3:upload({Bucket = "mp", Key = "slow-abort.bin", Body = body}, {queueSize = 1})
    local aborted = false
    up:on("httpUploadProgress", function(p)
      if p.part == 1 and p.loaded > 0 and not aborted then
        aborted = true
        up:abort()
      end
    end)
    local state, err = support.settle(up:promise())
    assert.equal("rejected", state)
    assert.equal("RequestAbortedError", err.code)
    assert.is_string(up.uploadId)
    assert.same({}, uploads_left("mp"))
    local listed, list_err = support.settle(s3:listParts({Bucket = "mp", Key = "slow-abort.bin", UploadId = up.uploadId}):promise())
    assert.equal("rejected", listed)
    assert.equal("NoSuchUpload", list_err.code)
  end)

  it("a refused part fails the upload, which is aborted; leavePartsOnError keeps the parts", function()
    local state, err = support.settle(s3:upload({Bucket = "mp2", Key = "fail-part-2.bin", Body = body}, {queueSize = 1}):promise())
    assert.equal("rejected", state)
    assert.equal("InvalidPart", err.code)
    assert.same({}, uploads_left("mp2"))
    local up = s3:upload({Bucket = "mp3", Key = "fail-part-3.bin", Body = body}, {queueSize = 1, leavePartsOnError = true})
    state, err = support.settle(up:promise())
    assert.equal("rejected", state)
    assert.equal("InvalidPart", err.code)
    local left = uploads_left("mp3")
    assert.equal(1, #left)
    assert.equal(up.uploadId, left[1].UploadId)
    local parts = s3:listParts({Bucket = "mp3", Key = "fail-part-3.bin", UploadId = up.uploadId}):promise():await().Parts
    assert.equal(2, #parts)
  end)

  it("a part that fails once is retried by the client's policy", function()
    local function stats() return server.json("GET", "/s3mp/_stats") end
    local retrying = AWS.S3({endpoint = server.url .. "/s3mp", region = "us-east-1", s3ForcePathStyle = true,
      maxRetries = 2, retryDelayOptions = {base = 1}, credentials = {accessKeyId = "AKID", secretAccessKey = "SECRET"}})
    local before = stats().uploadParts
    local data = retrying:upload({Bucket = "mp6", Key = "flaky-part-2.bin", Body = body}, {queueSize = 2}):promise():await()
    assert.equal("flaky-part-2.bin", data.Key)
    assert.equal(before + 4, stats().uploadParts, "three parts and one retry")
    assert.is_true(retrying:getObject({Bucket = "mp6", Key = "flaky-part-2.bin"}):promise():await().Body == body)
  end)

  it("a single put carries the tags as its Tagging header", function()
    s3:upload({Bucket = "mp5", Key = "small.txt", Body = "small"}, {tags = {{Key = "team", Value = "lua & c"}, {Key = "n", Value = "1"}}})
      :promise():await()
    local tags = s3:getObjectTagging({Bucket = "mp5", Key = "small.txt"}):promise():await()
    assert.same({{Key = "n", Value = "1"}, {Key = "team", Value = "lua & c"}}, tags.TagSet)
  end)

  it("abort() before the upload starts rejects without a request", function()
    local up = s3:upload({Bucket = "mp4", Key = "never.bin", Body = body})
    up:abort()
    local state, err = support.settle(up:promise())
    assert.equal("rejected", state)
    assert.equal("RequestAbortedError", err.code)
    assert.same({}, uploads_left("mp4"))
  end)
end)
