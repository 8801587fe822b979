-- Presigned URLs and POSTs against s3rver behind the SigV4-checking front, fetched with plain
-- curl: the front recomputes each query signature (botocore) and each POST policy signature, and
-- refuses what was tampered with or has expired.
local AWS = require "awspromise"
local local_aws = require "support.local_aws"
local support = require "support.loop"

local quote = support.quote

-- curl's status code and body for args (a list of words).
local function curl(args)
  local out = os.tmpname()
  -- a sanitizer preloaded into the specs (make asan) has no business in curl
  local words = {"env -u LD_PRELOAD curl -s -S --max-time 20 -o", quote(out), "-w '%{http_code}'"}
  for _, a in ipairs(args) do words[#words + 1] = quote(a) end
  local p = assert(io.popen(table.concat(words, " ")))
  local status = tonumber(p:read("a"))
  p:close()
  local f = assert(io.open(out, "rb"))
  local body = f:read("a")
  f:close()
  os.remove(out)
  return status, body
end

describe("S3 presigning (getSignedUrl, createPresignedPost) fetched by curl", function()
  local aws, s3, bucket

  setup(function()
    aws = local_aws.get()
    s3 = AWS.S3(aws.options("s3"))
    bucket = "presign-" .. os.time()
    s3:createBucket({Bucket = bucket}):promise():await()
    s3:putObject({Bucket = bucket, Key = "dir/hello world.txt", Body = "hello presigned"}):promise():await()
  end)

  it("a presigned GET is fetched by curl; a tampered or expired one is refused", function()
    local url = s3:getSignedUrl("getObject", {Bucket = bucket, Key = "dir/hello world.txt", Expires = 60})
    assert.matches("X%-Amz%-Expires=60", url)
    assert.same({200, "hello presigned"}, {curl {url}})

    local other_key = url:gsub("hello%%20world", "hello%%20there")
    local status, body = curl {other_key}
    assert.equal(403, status)
    assert.matches("<Code>SignatureDoesNotMatch</Code>", body, 1, true)
    local longer = url:gsub("X%-Amz%-Expires=60", "X-Amz-Expires=600")
    assert.equal(403, (curl {longer}))

    local late = AWS.S3(aws.options("s3"))
    late.config.systemClockOffset = -1000 -- signed 1000 s ago, valid for 900
    status, body = curl {late:getSignedUrl("getObject", {Bucket = bucket, Key = "dir/hello world.txt"})}
    assert.equal(403, status)
    assert.matches("Request has expired", body, 1, true)
  end)

  it("a presigned PUT carries its hoisted ACL and metadata; the signed Content-Type must be sent", function()
    local params = {Bucket = bucket, Key = "put.txt", ContentType = "text/plain", ACL = "public-read",
      Metadata = {color = "blue"}}
    local url = s3:getSignedUrlPromise("putObject", params):await()
    assert.matches("x%-amz%-acl=public%-read", url)
    assert.matches("x%-amz%-meta%-color=blue", url)
    assert.matches("X%-Amz%-SignedHeaders=content%-type%%3Bhost", url)
    assert.equal(403, (curl {"-X", "PUT", "--data-binary", "no type", "-H", "Content-Type: text/html", url}))
    assert.equal(200, (curl {"-X", "PUT", "--data-binary", "put by curl", "-H", "Content-Type: text/plain", url}))
    local head = s3:headObject({Bucket = bucket, Key = "put.txt"}):promise():await()
    assert.equal("text/plain", head.ContentType)
    assert.equal("blue", head.Metadata.color)
    assert.equal("put by curl", s3:getObject({Bucket = bucket, Key = "put.txt"}):promise():await().Body)
  end)

  it("getSignedUrl with a callback answers after the credentials resolve", function()
    local got
    s3:getSignedUrl("headObject", {Bucket = bucket, Key = "dir/hello world.txt"}, function(err, url)
      got = {err, url}
    end)
    AWS.run()
    assert.is_nil(got[1])
    assert.equal(200, (curl {"-I", got[2]}))
  end)

  it("a presigned POST form uploads with curl; a field outside the policy is refused", function()
    local post = s3:createPresignedPost {Bucket = bucket, Fields = {key = "uploads/form.txt"},
      Conditions = {{"starts-with", "$Content-Type", "text/"}, {"content-length-range", 1, 1000}}}
    local file = os.tmpname()
    support.write(file, "posted by a form")
    local function form(overrides)
      local args = {}
      for name, value in pairs(post.fields) do
        args[#args + 1] = "-F"
        args[#args + 1] = name .. "=" .. (overrides[name] or value)
      end
      for _, extra in ipairs(overrides) do args[#args + 1] = "-F" args[#args + 1] = extra end
      args[#args + 1] = "-F"
      args[#args + 1] = "file=@" .. file
      args[#args + 1] = post.url
      return curl(args)
    end
    local status = form {"Content-Type=text/plain"}
    assert.equal(204, status)
    assert.equal("posted by a form", s3:getObject({Bucket = bucket, Key = "uploads/form.txt"}):promise():await().Body)

    local refused, body = form {"Content-Type=image/png"}
    assert.equal(403, refused)
    assert.matches("Policy Condition failed", body, 1, true)
    assert.equal(403, (form {key = "elsewhere.txt", "Content-Type=text/plain"}))
    os.remove(file)
  end)
end)
