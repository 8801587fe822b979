-- s3:upload's arguments, refused before any request (the transfers are in
-- spec/integration/s3_upload_spec.lua).
local AWS = require "awspromise"

describe("s3:upload arguments", function()
  local s3 = AWS.S3({region = "us-east-1", credentials = {accessKeyId = "AKID", secretAccessKey = "SECRET"}})

  local function refused(pattern, ...)
    local args = table.pack(...)
    local ok, err = pcall(function() return s3:upload(table.unpack(args, 1, args.n)) end)
    assert.is_false(ok)
    assert.equal("table", type(err))
    assert.truthy(tostring(err.message):find(pattern), err.message)
    return err
  end

  it("refuses a part size below S3's 5 MiB, a zero queue and a non-integer size", function()
    refused("partSize must be at least 5242880", {Bucket = "b", Key = "k", Body = "x"}, {partSize = 1024})
    refused("queueSize must be a positive integer", {Bucket = "b", Key = "k", Body = "x"}, {queueSize = 0})
    refused("partSize must be a positive integer", {Bucket = "b", Key = "k", Body = "x"}, {partSize = 5242880.5})
  end)

  it("refuses a Body that is no string, file or reader, and a closed file", function()
    assert.equal("InvalidParameter", refused("Body must be a string, a file handle or a reader function",
      {Bucket = "b", Key = "k", Body = 42}).code)
    local f = io.tmpfile()
    f:close()
    refused("closed file", {Bucket = "b", Key = "k", Body = f})
  end)

  it("refuses malformed tags, unknown events and a listener that is not callable", function()
    refused("tags%[1%]", {Bucket = "b", Key = "k", Body = "x"}, {tags = {{Key = "a"}}})
    local up = s3:upload({Bucket = "b", Key = "k", Body = "x"})
    assert.is_false(pcall(up.on, up, "httpDownloadProgress", function() end))
    assert.is_false(pcall(up.on, up, "httpUploadProgress", 1))
    assert.equal(up, up:on("httpUploadProgress", function() end))
  end)

  it("grows the part size so that a large known body fits in 10000 parts", function()
    local f = io.tmpfile()
    f:seek("set", 6 * 1024 * 1024 * 10000 - 1)
    f:write("x")
    f:seek("set", 0)
    local up = s3:upload({Bucket = "b", Key = "k", Body = f})
    assert.equal(6 * 1024 * 1024, up.partSize)
    assert.equal(6 * 1024 * 1024 * 10000, up.total)
    f:close()
  end)

  it("AWS.S3.ManagedUpload.new takes the client as options.service", function()
    local up = AWS.S3.ManagedUpload.new({service = s3, params = {Bucket = "b", Key = "k", Body = "x"}, queueSize = 2})
    assert.equal(2, up.queueSize)
    assert.equal(5 * 1024 * 1024, up.partSize)
    assert.is_false(pcall(AWS.S3.ManagedUpload.new, {params = {}}))
  end)
end)
