-- End to end against real local services (s3rver, dynalite, the EC2 fixture), every request
-- through the front that recomputes SigV4 with botocore and refuses a mismatch.
local AWS = require "awspromise"
local support = require "support.loop"
local local_aws = require "support.local_aws"
local servers = require "support.servers"

local aws, env
local function opts(endpoint_var, extra)
  local o = {
    endpoint = env[endpoint_var], region = env.AWS_REGION,
    credentials = {accessKeyId = env.AWS_ACCESS_KEY_ID, secretAccessKey = env.AWS_SECRET_ACCESS_KEY},
  }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local s3, dynamodb, ec2
local BUCKET = "e2e-bucket-" .. os.time()

setup(function()
  aws = local_aws.get()
  env = aws.env
  s3 = AWS.S3(opts("AWS_ENDPOINT_URL_S3", {s3ForcePathStyle = true}))
  dynamodb = AWS.DynamoDB(opts("AWS_ENDPOINT_URL_DYNAMODB"))
  ec2 = AWS.EC2(opts("AWS_ENDPOINT_URL_EC2"))
  s3:createBucket({Bucket = BUCKET}):promise():await()
end)

describe("S3", function()
  local keys = {"plain.txt", "with space.txt", "unicodé-ключ-鍵.txt", "plus+sign", "tilde~name",
                "dollar$sign", "nested/dir/file.txt", "a/../b/./c.txt"}

  it("puts, gets, heads and deletes objects whose keys need encoding", function()
    for i, key in ipairs(keys) do
      local put = s3:putObject({Bucket = BUCKET, Key = key, Body = "body " .. i, ContentType = "text/plain"}):promise():await()
      assert.is_string(put.ETag, key)
      local got = s3:getObject({Bucket = BUCKET, Key = key}):promise():await()
      assert.equal("body " .. i, got.Body, key)
      assert.equal("text/plain", got.ContentType, key)
      local head = s3:headObject({Bucket = BUCKET, Key = key}):promise():await()
      assert.equal(#("body " .. i), head.ContentLength, key)
    end
    s3:deleteObject({Bucket = BUCKET, Key = "plus+sign"}):promise():await()
    local state, err = support.settle(s3:headObject({Bucket = BUCKET, Key = "plus+sign"}):promise())
    assert.equal("rejected", state)
    assert.equal(404, err.statusCode)
    assert.equal("NotFound", err.code)
  end)

  it("a missing key is NoSuchKey with statusCode 404", function()
    local state, err = support.settle(s3:getObject({Bucket = BUCKET, Key = "nope"}):promise())
    assert.equal("rejected", state)
    assert.equal("NoSuchKey", err.code)
    assert.equal(404, err.statusCode)
    assert.is_false(err.retryable)
  end)

  it("keeps user metadata headers", function()
    s3:putObject({Bucket = BUCKET, Key = "meta.txt", Body = "m", Metadata = {owner = "lua", ["x-note"] = "hi"}}):promise():await()
    local head = s3:headObject({Bucket = BUCKET, Key = "meta.txt"}):promise():await()
    assert.equal("lua", head.Metadata.owner)
    assert.equal("hi", head.Metadata["x-note"])
  end)

  it("lists with a prefix, a delimiter and a manual continuation loop", function()
    for i = 1, 7 do
      s3:putObject({Bucket = BUCKET, Key = string.format("list/item-%02d", i), Body = "x"}):promise():await()
    end
    s3:putObject({Bucket = BUCKET, Key = "list/sub/deep", Body = "x"}):promise():await()
    local seen, pages, token = {}, 0, nil
    repeat
      local page = s3:listObjectsV2({Bucket = BUCKET, Prefix = "list/", Delimiter = "/", MaxKeys = 3,
        ContinuationToken = token}):promise():await()
      pages = pages + 1
      for _, o in ipairs(page.Contents or {}) do seen[#seen + 1] = o.Key end
      for _, p in ipairs(page.CommonPrefixes or {}) do seen[#seen + 1] = p.Prefix end
      token = page.IsTruncated and page.NextContinuationToken or nil
    until not token
    table.sort(seen)
    assert.equal(8, #seen)
    assert.equal("list/item-01", seen[1])
    assert.equal("list/sub/", seen[8])
    assert.is_true(pages >= 3)
  end)

  it("copies an object", function()
    s3:putObject({Bucket = BUCKET, Key = "source.txt", Body = "copy me"}):promise():await()
    s3:copyObject({Bucket = BUCKET, Key = "copy.txt", CopySource = BUCKET .. "/source.txt"}):promise():await()
    assert.equal("copy me", s3:getObject({Bucket = BUCKET, Key = "copy.txt"}):promise():await().Body)
  end)

  it("uploads in parts", function()
    local key = "multipart.bin"
    local create = s3:createMultipartUpload({Bucket = BUCKET, Key = key}):promise():await()
    local part1 = string.rep("a", 5 * 1024 * 1024)
    local part2 = "tail"
    local parts = {}
    for n, body in ipairs {part1, part2} do
      local up = s3:uploadPart({Bucket = BUCKET, Key = key, UploadId = create.UploadId, PartNumber = n, Body = body}):promise():await()
      parts[n] = {ETag = up.ETag, PartNumber = n}
    end
    s3:completeMultipartUpload({Bucket = BUCKET, Key = key, UploadId = create.UploadId,
      MultipartUpload = {Parts = parts}}):promise():await()
    local got = s3:getObject({Bucket = BUCKET, Key = key}):promise():await()
    assert.equal(#part1 + #part2, #got.Body)
    assert.equal("tail", got.Body:sub(-4))
  end)
end)

describe("DynamoDB", function()
  local TABLE = "e2e-" .. os.time()

  setup(function()
    dynamodb:createTable({
      TableName = TABLE,
      KeySchema = {{AttributeName = "pk", KeyType = "HASH"}, {AttributeName = "sk", KeyType = "RANGE"}},
      AttributeDefinitions = {{AttributeName = "pk", AttributeType = "S"}, {AttributeName = "sk", AttributeType = "N"}},
      ProvisionedThroughput = {ReadCapacityUnits = 5, WriteCapacityUnits = 5},
    }):promise():await()
    -- a new table is CREATING at first: wait until it is ACTIVE, as a tableExists waiter does
    for _ = 1, 200 do
      local d = dynamodb:describeTable({TableName = TABLE}):promise():await()
      if d.Table.TableStatus == "ACTIVE" then break end
      AWS.util.delay(25):await()
    end
  end)

  it("puts, gets, updates and deletes an item", function()
    dynamodb:putItem({TableName = TABLE, Item = {pk = {S = "u1"}, sk = {N = "1"}, name = {S = "Ada"}}}):promise():await()
    local got = dynamodb:getItem({TableName = TABLE, Key = {pk = {S = "u1"}, sk = {N = "1"}}}):promise():await()
    assert.equal("Ada", got.Item.name.S)
    local updated = dynamodb:updateItem({TableName = TABLE, Key = {pk = {S = "u1"}, sk = {N = "1"}},
      UpdateExpression = "SET #n = :v", ExpressionAttributeNames = {["#n"] = "name"},
      ExpressionAttributeValues = {[":v"] = {S = "Grace"}}, ReturnValues = "ALL_NEW"}):promise():await()
    assert.equal("Grace", updated.Attributes.name.S)
    dynamodb:deleteItem({TableName = TABLE, Key = {pk = {S = "u1"}, sk = {N = "1"}}}):promise():await()
    local gone = dynamodb:getItem({TableName = TABLE, Key = {pk = {S = "u1"}, sk = {N = "1"}}}):promise():await()
    assert.is_nil(gone.Item)
  end)

  it("batch-writes, then queries with a key condition and paging", function()
    local requests = {}
    for i = 1, 12 do
      requests[i] = {PutRequest = {Item = {pk = {S = "q"}, sk = {N = tostring(i)}}}}
    end
    dynamodb:batchWriteItem({RequestItems = {[TABLE] = requests}}):promise():await()
    local count, pages, start = 0, 0, nil
    repeat
      local page = dynamodb:query({TableName = TABLE, KeyConditionExpression = "pk = :p AND sk > :s",
        ExpressionAttributeValues = {[":p"] = {S = "q"}, [":s"] = {N = "2"}}, Limit = 4,
        ExclusiveStartKey = start}):promise():await()
      pages = pages + 1
      count = count + page.Count
      assert.equal("integer", math.type(page.Count))
      start = page.LastEvaluatedKey
    until not start
    assert.equal(10, count)
    assert.is_true(pages >= 3)
  end)

  it("a failing condition is ConditionalCheckFailedException", function()
    dynamodb:putItem({TableName = TABLE, Item = {pk = {S = "c"}, sk = {N = "1"}}}):promise():await()
    local state, err = support.settle(dynamodb:putItem({TableName = TABLE, Item = {pk = {S = "c"}, sk = {N = "1"}},
      ConditionExpression = "attribute_not_exists(pk)"}):promise())
    assert.equal("rejected", state)
    assert.equal("ConditionalCheckFailedException", err.code)
    assert.equal(400, err.statusCode)
  end)
end)

describe("EC2", function()
  it("describes instances, with filters", function()
    local all = ec2:describeInstances():promise():await()
    local n = 0
    for _, r in ipairs(all.Reservations) do n = n + #r.Instances end
    assert.is_true(n >= 3)
    local running = ec2:describeInstances({Filters = {{Name = "instance-state-name", Values = {"running"}}}}):promise():await()
    for _, r in ipairs(running.Reservations) do
      for _, i in ipairs(r.Instances) do assert.equal("running", i.State.Name) end
    end
  end)

  it("returns EC2 error codes", function()
    local state, err = support.settle(ec2:describeInstances({InstanceIds = {"i-0123456789abcdef0"}}):promise())
    assert.equal("rejected", state)
    assert.equal("InvalidInstanceID.NotFound", err.code)
    assert.equal(400, err.statusCode)
    assert.is_string(err.requestId)
  end)
end)

describe("together", function()
  it("Promise.all over S3, DynamoDB and EC2", function()
    local values = AWS.Promise.all({
      s3:listBuckets():promise(),
      dynamodb:listTables():promise(),
      ec2:describeInstances():promise(),
    }):await()
    assert.is_table(values[1].Buckets)
    assert.is_table(values[2].TableNames)
    assert.is_table(values[3].Reservations)
  end)

  it("500 concurrent putObject calls all settle with the right results", function()
    local list = {}
    for i = 1, 500 do
      list[i] = s3:putObject({Bucket = BUCKET, Key = "many/" .. i, Body = "v" .. i}):promise()
    end
    local values = AWS.Promise.all(list):await()
    assert.equal(500, #values)
    for i = 1, 500 do assert.is_string(values[i].ETag) end
    local check = s3:getObject({Bucket = BUCKET, Key = "many/377"}):promise():await()
    assert.equal("v377", check.Body)
  end)

  it("aborts an in-flight request", function()
    local req = s3:putObject({Bucket = BUCKET, Key = "aborted", Body = string.rep("z", 1024 * 1024)})
    local p = req:promise()
    AWS.loop.step(0)
    req:abort()
    local state, err = support.settle(p)
    assert.same({"rejected", "RequestAbortedError"}, {state, err.code})
  end)

  it("times out against a server that stalls", function()
    local stall = servers.start("spec/support/fault_server.py")
    local c = AWS.S3(opts("AWS_ENDPOINT_URL_S3", {endpoint = stall.url .. "/never", s3ForcePathStyle = true,
      maxRetries = 0, httpOptions = {timeout = 300}}))
    local state, err = support.settle(c:listBuckets():promise())
    stall.stop()
    assert.equal("rejected", state)
    assert.equal("TimeoutError", err.code)
  end)
end)

describe("signatures and TLS", function()
  it("a wrong secret is refused by the signature-checking front", function()
    local bad = AWS.S3(opts("AWS_ENDPOINT_URL_S3", {s3ForcePathStyle = true,
      credentials = {accessKeyId = env.AWS_ACCESS_KEY_ID, secretAccessKey = "not-the-secret"}}))
    local state, err = support.settle(bad:listBuckets():promise())
    assert.equal("rejected", state)
    assert.equal("SignatureDoesNotMatch", err.code)
    assert.equal(403, err.statusCode)
    local bad_ddb = AWS.DynamoDB(opts("AWS_ENDPOINT_URL_DYNAMODB", {maxRetries = 0,
      credentials = {accessKeyId = env.AWS_ACCESS_KEY_ID, secretAccessKey = "not-the-secret"}}))
    local _, err2 = support.settle(bad_ddb:listTables():promise())
    assert.equal("InvalidSignatureException", err2.code)
  end)

  it("works over HTTPS with verification on and httpOptions.caFile", function()
    local tls = AWS.S3(opts("AWS_ENDPOINT_URL_S3", {endpoint = env.AWSPROMISE_TEST_HTTPS_S3, s3ForcePathStyle = true,
      httpOptions = {caFile = env.AWSPROMISE_TEST_CA}}))
    local got = tls:getObject({Bucket = BUCKET, Key = "plain.txt"}):promise():await()
    assert.equal("body 1", got.Body)
  end)

  it("refuses a certificate from an untrusted CA", function()
    local untrusted = AWS.S3(opts("AWS_ENDPOINT_URL_S3", {endpoint = env.AWSPROMISE_TEST_UNTRUSTED_HTTPS,
      s3ForcePathStyle = true, maxRetries = 0, httpOptions = {caFile = env.AWSPROMISE_TEST_CA}}))
    local state, err = support.settle(untrusted:listBuckets():promise())
    assert.equal("rejected", state)
    assert.equal("NetworkingError", err.code)
    assert.is_false(err.retryable)
  end)
end)
