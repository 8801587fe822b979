-- Paging against the local services: s3rver (listObjectsV2 and listObjects v1 over 2,500 keys),
-- dynalite (query and scan with LastEvaluatedKey and Limit), the EC2 fixture (describeInstances
-- with MaxResults) and a CloudWatch-Logs-style fixture whose forward token repeats at the end.
local AWS = require "awspromise"
local local_aws = require "support.local_aws"
local servers = require "support.servers"

local KEYS = 2500
local BUCKET = "paging-" .. os.time()

local aws, s3
local requests -- operation name -> how many requests the logged clients made

local function logged(service)
  local options = aws.options(service)
  options.logger = function(line)
    local operation = line:match("%] (%w+)$")
    requests[operation] = (requests[operation] or 0) + 1
  end
  return options
end

local function key_of(i)
  -- every 100th key needs percent-encoding, so that it travels as a marker too
  if i % 100 == 0 then return string.format("obj/é key %04d+x", i) end
  return string.format("obj/%04d", i)
end

setup(function()
  aws = local_aws.get()
  requests = {}
  s3 = AWS.S3(logged("s3"))
  s3:createBucket({Bucket = BUCKET}):promise():await()
  local next_key = 0
  local function writer()
    return AWS.async(function()
      while next_key < KEYS do
        next_key = next_key + 1
        s3:putObject({Bucket = BUCKET, Key = key_of(next_key), Body = ""}):promise():await()
      end
    end)
  end
  local writers = {}
  for i = 1, 32 do writers[i] = writer() end
  AWS.Promise.all(writers):await()
end)

before_each(function() requests = {} end)

-- Every key exactly once.
local function assert_every_key_once(keys)
  local seen, duplicates = {}, {}
  for _, key in ipairs(keys) do
    if seen[key] then duplicates[#duplicates + 1] = key end
    seen[key] = true
  end
  assert.same({}, duplicates)
  assert.equal(KEYS, #keys)
  for i = 1, KEYS do assert.is_true(seen[key_of(i)], key_of(i)) end
end

describe("S3 listObjectsV2 over 2,500 keys", function()
  it("for page in client:paginate(...): every key once, each page fetched when asked", function()
    local keys, pages = {}, 0
    for page in s3:paginate("listObjectsV2", {Bucket = BUCKET}, {PageSize = 400}) do
      pages = pages + 1
      assert.equal(pages, requests.ListObjectsV2, "a page was fetched ahead without prefetch")
      for _, object in ipairs(page.Contents) do keys[#keys + 1] = object.Key end
    end
    assert.equal(7, pages)
    assert_every_key_once(keys)
  end)

  it("items() inside AWS.async, one page ahead", function()
    local keys = AWS.async(function()
      local list = {}
      for object, result_key in s3:paginate("listObjectsV2", {Bucket = BUCKET, MaxKeys = 700}, {prefetch = true}):items() do
        assert.equal("Contents", result_key)
        list[#list + 1] = object.Key
      end
      return list
    end):await()
    assert_every_key_once(keys)
    assert.equal(4, requests.ListObjectsV2)
  end)

  it("request:eachPage (JS v2): pages, then nil data once", function()
    local keys, calls, finished = {}, 0, 0
    s3:listObjectsV2({Bucket = BUCKET}):eachPage(function(err, data)
      assert.is_nil(err)
      calls = calls + 1
      if data == nil then
        finished = finished + 1
        return
      end
      for _, object in ipairs(data.Contents) do keys[#keys + 1] = object.Key end
    end)
    AWS.run()
    assert.equal(4, calls) -- 1000 + 1000 + 500, then the end
    assert.equal(1, finished)
    assert_every_key_once(keys)
  end)

  it("hasNextPage / nextPage by hand", function()
    local keys, pages = {}, 0
    local request = s3:listObjectsV2({Bucket = BUCKET, MaxKeys = 1000})
    while request do
      local data = request:promise():await()
      pages = pages + 1
      for _, object in ipairs(data.Contents) do keys[#keys + 1] = object.Key end
      local response = data["$response"]
      assert.equal(pages < 3, response:hasNextPage())
      request = response:nextPage()
    end
    assert.equal(3, pages)
    assert_every_key_once(keys)
  end)

  it("all() with MaxItems stops fetching once it has enough", function()
    local items = s3:paginate("listObjectsV2", {Bucket = BUCKET}, {MaxItems = 1234}):all():await()
    assert.equal(1234, #items)
    assert.equal(key_of(1), items[1].Key)
    assert.equal(2, requests.ListObjectsV2)
  end)

  it("break leaves the loop and aborts the page fetched ahead", function()
    local aborted = 0
    local client = AWS.S3(aws.options("s3"))
    client.config.logger = function(line) if line:match("RequestAbortedError") then aborted = aborted + 1 end end
    for page in client:paginate("listObjectsV2", {Bucket = BUCKET}, {prefetch = true}) do
      assert.equal(1000, #page.Contents)
      break
    end
    assert.equal(1, aborted)
  end)
end)

describe("S3 listObjects (v1) over 2,500 keys", function()
  it("without a delimiter the marker is the last key of each page", function()
    local keys, markers = {}, {}
    for page in s3:paginate("listObjects", {Bucket = BUCKET}) do
      assert.is_nil(page.NextMarker)
      markers[#markers + 1] = page["$response"].request.params.Marker or "-"
      for _, object in ipairs(page.Contents) do keys[#keys + 1] = object.Key end
    end
    assert.same({"-", keys[1000], keys[2000]}, markers)
    assert_every_key_once(keys)
  end)

  it("with a delimiter it follows NextMarker; eachItem gives every key once, then (nil, nil)", function()
    local keys, ended, pages = {}, false, 0
    s3:listObjects({Bucket = BUCKET, Prefix = "obj/", Delimiter = "/", MaxKeys = 600})
      :on("success", function(response) assert.is_string(response.data.NextMarker) end)
      :eachItem(function(err, object, result_key)
        assert.is_nil(err)
        if object == nil then
          ended = true
          return
        end
        assert.equal("Contents", result_key)
        keys[#keys + 1] = object.Key
      end)
    AWS.run()
    pages = requests.ListObjects
    assert.is_true(ended)
    assert.equal(5, pages)
    assert_every_key_once(keys)
  end)

  it("eachPage with done: the next page waits for done()", function()
    local keys, pending_done = {}, nil
    s3:listObjects({Bucket = BUCKET}):eachPage(function(_, data, done)
      if data then
        for _, object in ipairs(data.Contents) do keys[#keys + 1] = object.Key end
      end
      pending_done = done
    end)
    AWS.run()
    assert.equal(1000, #keys)
    assert.equal(1, requests.ListObjects)
    while pending_done do
      local done = pending_done
      pending_done = nil
      done()
      AWS.run()
    end
    assert.equal(3, requests.ListObjects)
    assert_every_key_once(keys)
  end)
end)

describe("DynamoDB query and scan", function()
  local TABLE = "paging-" .. os.time()
  local dynamodb

  setup(function()
    dynamodb = AWS.DynamoDB(logged("dynamodb"))
    local schema, attributes = {}, {}
    for i, key in ipairs {{"pk", "HASH", "S"}, {"sk", "RANGE", "N"}} do
      schema[i] = {AttributeName = key[1], KeyType = key[2]}
      attributes[i] = {AttributeName = key[1], AttributeType = key[3]}
    end
    dynamodb:createTable({TableName = TABLE, KeySchema = schema, AttributeDefinitions = attributes,
      ProvisionedThroughput = {ReadCapacityUnits = 5, WriteCapacityUnits = 5}}):promise():await()
    dynamodb:waitFor("tableExists", {TableName = TABLE, ["$waiter"] = {delay = 0.05}}):promise():await()
    local batches, batch = {}, {}
    for i = 1, 80 do
      local pk = i <= 60 and "p" or "q"
      batch[#batch + 1] = {PutRequest = {Item = {pk = {S = pk}, sk = {N = tostring(i)}}}}
      if #batch == 25 or i == 80 then
        batches[#batches + 1] = dynamodb:batchWriteItem({RequestItems = {[TABLE] = batch}}):promise()
        batch = {}
      end
    end
    AWS.Promise.all(batches):await()
  end)

  it("query pages with Limit and a map-valued LastEvaluatedKey", function()
    local sks, pages, start_keys = {}, 0, {}
    for page in dynamodb:paginate("query", {TableName = TABLE, KeyConditionExpression = "pk = :p",
        ExpressionAttributeValues = {[":p"] = {S = "p"}}}, {PageSize = 7}) do
      pages = pages + 1
      start_keys[pages] = page["$response"].request.params.ExclusiveStartKey
      for _, item in ipairs(page.Items) do sks[#sks + 1] = tonumber(item.sk.N) end
    end
    assert.is_true(pages >= 9)
    assert.equal(60, #sks)
    for i = 1, 60 do assert.equal(i, sks[i]) end
    assert.is_nil(start_keys[1])
    assert.same({pk = {S = "p"}, sk = {N = "7"}}, start_keys[2])
    assert.same({pk = {S = "p"}, sk = {N = "14"}}, start_keys[3])
  end)

  it("scan: every item once through items(), with Limit", function()
    local seen, n = {}, 0
    for item in dynamodb:paginate("scan", {TableName = TABLE, Limit = 13}):items() do
      local key = item.pk.S .. item.sk.N
      assert.is_nil(seen[key], key)
      seen[key] = true
      n = n + 1
    end
    assert.equal(80, n)
    assert.is_true(requests.Scan >= 7)
  end)
end)

describe("EC2 describeInstances", function()
  it("pages with MaxResults through NextToken", function()
    local ec2 = AWS.EC2(logged("ec2"))
    local everything = ec2:describeInstances():promise():await()
    local expected = {}
    for _, reservation in ipairs(everything.Reservations) do
      for _, instance in ipairs(reservation.Instances) do expected[#expected + 1] = instance.InstanceId end
    end
    requests = {}
    local ids = {}
    for reservation in ec2:paginate("describeInstances", {}, {PageSize = 5}):items() do
      for _, instance in ipairs(reservation.Instances) do ids[#ids + 1] = instance.InstanceId end
    end
    table.sort(expected)
    table.sort(ids)
    assert.same(expected, ids)
    assert.is_true(requests.DescribeInstances >= 2, "the instances needed more than one page of 5")
  end)
end)

describe("CloudWatch Logs getLogEvents", function()
  local srv, logs

  setup(function()
    srv = servers.start("spec/support/logs_fixture.py", {"--events", "23"})
    logs = AWS.CloudWatchLogs({endpoint = srv.url, region = "us-east-1",
      credentials = {accessKeyId = "AKID", secretAccessKey = "SECRET"}})
  end)

  teardown(function()
    if srv then srv.stop() end
  end)

  local PARAMS = {logGroupName = "/fixture/group", logStreamName = "stream-1", startFromHead = true}

  it("stops when nextForwardToken comes back unchanged", function()
    local messages, pages = {}, 0
    for page in logs:paginate("getLogEvents", PARAMS, {PageSize = 5}) do
      pages = pages + 1
      assert.is_true(pages <= 10, "the repeating token did not end the paging")
      for _, event in ipairs(page.events) do messages[#messages + 1] = event.message end
    end
    assert.equal(23, #messages)
    for i = 1, 23 do assert.equal("event " .. i, messages[i]) end
    -- five pages of events, then one empty page whose token is the one sent
    assert.equal(6, pages)
    assert.equal(6, srv.json("GET", "/_calls").GetLogEvents)
  end)

  it("eachPage ends too, and a missing stream is an error page", function()
    local calls, ended = 0, false
    logs:getLogEvents(PARAMS):eachPage(function(err, data)
      assert.is_nil(err)
      calls = calls + 1
      ended = data == nil
    end)
    AWS.run()
    assert.is_true(ended)
    assert.equal(3, calls) -- all 23 events, the empty repeat, the end
    local ok, err = pcall(function()
      for _ in logs:paginate("getLogEvents", {logGroupName = "/fixture/group", logStreamName = "nope"}) do end
    end)
    assert.is_false(ok)
    assert.equal("ResourceNotFoundException", err.code)
  end)
end)
