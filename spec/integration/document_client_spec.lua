-- AWS.DynamoDB.DocumentClient against dynalite (behind the SigV4-checking front): every
-- operation, with Lua values in and out; what DynamoDB stored is read back raw to show the wire form.
local AWS = require "awspromise"
local support = require "support.loop"
local local_aws = require "support.local_aws"

local TABLE = "docclient-" .. os.time()
local dynamodb, doc

local function await(request) return request:promise():await() end

setup(function()
  local aws = local_aws.get()
  dynamodb = AWS.DynamoDB(aws.options("dynamodb"))
  doc = AWS.DynamoDB.DocumentClient({service = dynamodb})
  await(dynamodb:createTable({
    TableName = TABLE,
    AttributeDefinitions = {{AttributeName = "pk", AttributeType = "S"}, {AttributeName = "sk", AttributeType = "N"}},
    KeySchema = {{AttributeName = "pk", KeyType = "HASH"}, {AttributeName = "sk", KeyType = "RANGE"}},
    BillingMode = "PAY_PER_REQUEST",
  }))
  -- a new table is CREATING at first: wait until it is ACTIVE, as a tableExists waiter does
  for _ = 1, 200 do
    if await(dynamodb:describeTable({TableName = TABLE})).Table.TableStatus == "ACTIVE" then break end
    AWS.util.delay(25):await()
  end
end)

local function raw_item(pk, sk)
  return await(dynamodb:getItem({TableName = TABLE, Key = {pk = {S = pk}, sk = {N = tostring(sk)}}})).Item
end

describe("DocumentClient", function()
  it("puts and gets strings, numbers, booleans, NULL, binary, sets, nested maps and lists", function()
    local item = {
      pk = "all", sk = 1, name = "Ada", age = 36, ratio = 0.1, active = true, off = false,
      nothing = AWS.DynamoDB.NULL, blob = doc:createBinary("\0\1\2\255"),
      tags = doc:createSet({"red", "blue"}), scores = doc:createSet({1, 2.5}),
      blobs = doc:createSet({doc:createBinary("a"), doc:createBinary("\0")}),
      address = {city = "London", lines = {"1 Main St", "Flat 2"}, geo = {lat = 51.5, lon = -0.12}},
      mixed = {1, "two", true, AWS.DynamoDB.NULL, {three = 3}},
    }
    await(doc:put({TableName = TABLE, Item = item}))

    local raw = raw_item("all", 1)
    assert.same({S = "Ada"}, raw.name)
    assert.same({N = "36"}, raw.age)
    assert.same({N = "0.1"}, raw.ratio)
    assert.same({BOOL = true}, raw.active)
    assert.same({NULL = true}, raw.nothing)
    assert.same({B = "\0\1\2\255"}, raw.blob)
    table.sort(raw.tags.SS)
    assert.same({"blue", "red"}, raw.tags.SS)
    assert.same({S = "London"}, raw.address.M.city)
    assert.same({L = {{S = "1 Main St"}, {S = "Flat 2"}}}, raw.address.M.lines)
    assert.same({N = "1"}, raw.mixed.L[1])
    assert.same({NULL = true}, raw.mixed.L[4])
    assert.same({M = {three = {N = "3"}}}, raw.mixed.L[5])

    local got = await(doc:get({TableName = TABLE, Key = {pk = "all", sk = 1}})).Item
    assert.equal("Ada", got.name)
    assert.equal(36, got.age)
    assert.equal("integer", math.type(got.age))
    assert.equal(0.1, got.ratio)
    assert.is_true(got.active)
    assert.is_false(got.off)
    assert.equal(AWS.DynamoDB.NULL, got.nothing)
    assert.equal("\0\1\2\255", got.blob.value)
    assert.equal("String", got.tags.type)
    table.sort(got.tags.values)
    assert.same({"blue", "red"}, got.tags.values)
    assert.equal("Number", got.scores.type)
    table.sort(got.scores.values)
    assert.same({1, 2.5}, got.scores.values)
    assert.equal("Binary", got.blobs.type)
    assert.equal(2, #got.blobs.values)
    assert.equal("London", got.address.city)
    assert.same({"1 Main St", "Flat 2"}, {got.address.lines[1], got.address.lines[2]})
    assert.equal(-0.12, got.address.geo.lon)
    assert.equal(5, #got.mixed)
    assert.equal(AWS.DynamoDB.NULL, got.mixed[4])
    assert.equal(3, got.mixed[5].three)
  end)

  it("round-trips empty lists and maps through get -> modify -> put", function()
    await(doc:put({TableName = TABLE, Item = {pk = "empty", sk = 1,
      list = AWS.DynamoDB.list{}, map = AWS.DynamoDB.map{}, plain = {}}}))
    local raw = raw_item("empty", 1)
    assert.same({L = {}}, raw.list)
    assert.same({M = {}}, raw.map)
    assert.same({M = {}}, raw.plain, "a plain empty table is a map")

    local got = await(doc:get({TableName = TABLE, Key = {pk = "empty", sk = 1}})).Item
    assert.is_true(AWS.DynamoDB.Converter.isList(got.list))
    assert.is_true(AWS.DynamoDB.Converter.isMap(got.map))
    got.sk = 2
    await(doc:put({TableName = TABLE, Item = got}))
    local again = raw_item("empty", 2)
    assert.same({L = {}}, again.list, "a list read back stays a list when written again")
    assert.same({M = {}}, again.map)
  end)

  it("keeps numbers exact: integers, floats, 2^53+1, and wrapNumbers for the rest", function()
    local exact = 9007199254740993
    await(doc:put({TableName = TABLE, Item = {pk = "num", sk = 1, exact = exact, neg = -42,
      third = 1 / 3, tiny = 1.5e-120, huge = 1.25e120, whole = 3.0, maxint = math.maxinteger,
      long = AWS.DynamoDB.number("12345678901234567890123456789.123456789")}}))
    local raw = raw_item("num", 1)
    assert.equal("9007199254740993", raw.exact.N)
    assert.equal(tostring(1 / 3), tostring(tonumber(raw.third.N)))
    assert.equal("3", raw.whole.N)
    assert.equal("9223372036854775807", raw.maxint.N)

    local got = await(doc:get({TableName = TABLE, Key = {pk = "num", sk = 1}})).Item
    assert.equal(exact, got.exact)
    assert.equal("integer", math.type(got.exact))
    assert.equal(-42, got.neg)
    assert.equal(1 / 3, got.third)
    assert.equal(1.5e-120, got.tiny)
    assert.equal(1.25e120, got.huge)
    assert.equal(math.maxinteger, got.maxint)

    local wrapped = AWS.DynamoDB.DocumentClient({service = dynamodb, wrapNumbers = true})
    local w = await(wrapped:get({TableName = TABLE, Key = {pk = "num", sk = 1}})).Item
    assert.equal("12345678901234567890123456789.123456789", tostring(w.long))
    assert.equal("9007199254740993", w.exact.value)
    assert.is_true(AWS.DynamoDB.Converter.isNumber(w.sk))
    -- a wrapped number is written back as the same N
    w.sk = AWS.DynamoDB.number("2")
    await(wrapped:put({TableName = TABLE, Item = w}))
    assert.equal("12345678901234567890123456789.123456789", raw_item("num", 2).long.N)
  end)

  it("refuses NaN and infinity before sending anything", function()
    for _, bad in ipairs {0 / 0, math.huge, -math.huge} do
      local state, err = support.settle(doc:put({TableName = TABLE, Item = {pk = "bad", sk = 1, x = bad}}):promise())
      assert.equal("rejected", state)
      assert.equal("InvalidParameterValue", err.code)
      assert.matches("params.Item.x", err.message, 1, true)
    end
  end)

  it("writes empty strings and sets as NULL with convertEmptyValues", function()
    local state, err = support.settle(doc:put({TableName = TABLE,
      Item = {pk = "ev", sk = 1, s = doc:createSet({})}}):promise())
    assert.equal("rejected", state)
    assert.matches("empty set", err.message)
    local conv = AWS.DynamoDB.DocumentClient({service = dynamodb, convertEmptyValues = true})
    await(conv:put({TableName = TABLE, Item = {pk = "ev", sk = 1, s = conv:createSet({}), e = "",
      b = conv:createBinary("")}}))
    local raw = raw_item("ev", 1)
    assert.same({NULL = true}, raw.s)
    assert.same({NULL = true}, raw.e)
    assert.same({NULL = true}, raw.b)
  end)

  it("updates with ExpressionAttributeValues and returns Attributes in Lua form", function()
    await(doc:put({TableName = TABLE, Item = {pk = "upd", sk = 1, count = 1, tags = doc:createSet({"a"})}}))
    local out = await(doc:update({TableName = TABLE, Key = {pk = "upd", sk = 1},
      UpdateExpression = "SET #c = #c + :one, nested = :n ADD tags :t",
      ConditionExpression = "#c = :expected",
      ExpressionAttributeNames = {["#c"] = "count"},
      ExpressionAttributeValues = {[":one"] = 1, [":expected"] = 1, [":n"] = {deep = {1, 2}},
        [":t"] = doc:createSet({"b"})},
      ReturnValues = "ALL_NEW"}))
    assert.equal(2, out.Attributes.count)
    assert.same({1, 2}, {out.Attributes.nested.deep[1], out.Attributes.nested.deep[2]})
    table.sort(out.Attributes.tags.values)
    assert.same({"a", "b"}, out.Attributes.tags.values)
  end)

  it("deletes with ReturnValues and a condition", function()
    await(doc:put({TableName = TABLE, Item = {pk = "del", sk = 1, v = "x"}}))
    local state, err = support.settle(doc:delete({TableName = TABLE, Key = {pk = "del", sk = 1},
      ConditionExpression = "v = :v", ExpressionAttributeValues = {[":v"] = "y"}}):promise())
    assert.equal("rejected", state)
    assert.equal("ConditionalCheckFailedException", err.code)
    local out = await(doc:delete({TableName = TABLE, Key = {pk = "del", sk = 1}, ReturnValues = "ALL_OLD"}))
    assert.equal("x", out.Attributes.v)
    assert.is_nil(await(doc:get({TableName = TABLE, Key = {pk = "del", sk = 1}})).Item)
  end)

  it("queries and scans page by page with a Lua LastEvaluatedKey as ExclusiveStartKey", function()
    for i = 1, 5 do await(doc:put({TableName = TABLE, Item = {pk = "q", sk = i, n = i * 10}})) end
    local seen, start, pages = {}, nil, 0
    repeat
      local page = await(doc:query({TableName = TABLE, KeyConditionExpression = "pk = :p AND sk >= :s",
        ExpressionAttributeValues = {[":p"] = "q", [":s"] = 2}, Limit = 2, ExclusiveStartKey = start}))
      pages = pages + 1
      for _, item in ipairs(page.Items) do seen[#seen + 1] = item.n end
      start = page.LastEvaluatedKey
      if start then assert.equal("q", start.pk) end
    until not start or pages > 5
    assert.same({20, 30, 40, 50}, seen)
    local scan = await(doc:scan({TableName = TABLE, FilterExpression = "pk = :p AND n > :n",
      ExpressionAttributeValues = {[":p"] = "q", [":n"] = 30}}))
    local ns = {}
    for _, item in ipairs(scan.Items) do ns[#ns + 1] = item.n end
    table.sort(ns)
    assert.same({40, 50}, ns)
  end)

  it("batchWrite and batchGet convert RequestItems and Responses", function()
    local writes = {}
    for i = 1, 3 do writes[i] = {PutRequest = {Item = {pk = "batch", sk = i, list = {i, i + 1}}}} end
    local w = await(doc:batchWrite({RequestItems = {[TABLE] = writes}}))
    assert.same({}, w.UnprocessedItems or {})
    local got = await(doc:batchGet({RequestItems = {[TABLE] = {Keys = {{pk = "batch", sk = 1}, {pk = "batch", sk = 3}}}}}))
    local lists = {}
    for _, item in ipairs(got.Responses[TABLE]) do lists[item.sk] = item.list end
    assert.same({1, 2}, {lists[1][1], lists[1][2]})
    assert.same({3, 4}, {lists[3][1], lists[3][2]})
    await(doc:batchWrite({RequestItems = {[TABLE] = {{DeleteRequest = {Key = {pk = "batch", sk = 2}}}}}}))
    assert.is_nil(raw_item("batch", 2))
  end)

  it("binds options.params, takes a send callback, and makes its own DynamoDB client", function()
    local aws = local_aws.get()
    local opts = aws.options("dynamodb")
    opts.params = {TableName = TABLE}
    local bound = AWS.DynamoDB.DocumentClient(opts)
    await(bound:put({Item = {pk = "bound", sk = 1, v = "ok"}}))
    local result
    bound:get({Key = {pk = "bound", sk = 1}}, function(err, data) result = {err = err, data = data} end)
    AWS.run()
    assert.is_nil(result.err)
    assert.equal("ok", result.data.Item.v)
  end)

  it("leaves the caller's params in Lua form", function()
    local params = {TableName = TABLE, Item = {pk = "mine", sk = 1, v = {1, 2}}}
    await(doc:put(params))
    assert.same({pk = "mine", sk = 1, v = {1, 2}}, params.Item)
  end)

  it("pages with eachPage when the Request offers it", function()
    local request = doc:query({TableName = TABLE, KeyConditionExpression = "pk = :p",
      ExpressionAttributeValues = {[":p"] = "q"}, Limit = 2})
    if not request.eachPage then
      pending("request:eachPage is not on this branch (it arrives with the paginator)")
      return
    end
    local seen, done = {}, false
    request:eachPage(function(err, data)
      assert.is_nil(err)
      if data == nil then done = true return false end
      for _, item in ipairs(data.Items) do seen[#seen + 1] = item.sk end
      return true
    end)
    AWS.run()
    assert.is_true(done)
    assert.same({1, 2, 3, 4, 5}, seen)
  end)
end)

-- dynalite 4.0.0 has no transactions: their wire form, against a recording endpoint.
describe("DocumentClient transactions", function()
  local core = require "awspromise.core"
  local recorder

  setup(function() recorder = require("support.recorder").start() end)
  teardown(function() recorder.stop() end)

  local function client_for(key)
    return AWS.DynamoDB.DocumentClient({region = "us-east-1", endpoint = recorder.endpoint(key),
      credentials = {accessKeyId = "AKID", secretAccessKey = "secret"}, maxRetries = 0})
  end

  it("transactWrite marshals Item, Key and ExpressionAttributeValues of every TransactItem", function()
    local key = recorder.key("txw")
    local client = client_for(key)
    await(client:transactWrite({TransactItems = {
      {Put = {TableName = "t", Item = {pk = "tx", v = {a = {1}}}}},
      {Update = {TableName = "t", Key = {pk = "tx2"}, UpdateExpression = "SET n = :n",
        ExpressionAttributeValues = {[":n"] = client:createSet({7, 8})}}},
      {ConditionCheck = {TableName = "t", Key = {pk = "tx3"}, ConditionExpression = "b = :b",
        ExpressionAttributeValues = {[":b"] = true}}},
      {Delete = {TableName = "t", Key = {pk = "tx4"}}},
    }}))
    local sent = recorder.last(key)
    assert.equal("DynamoDB_20120810.TransactWriteItems", sent.headers["x-amz-target"])
    local items = core.json_decode(sent.body).TransactItems
    assert.same({pk = {S = "tx"}, v = {M = {a = {L = {{N = "1"}}}}}}, items[1].Put.Item)
    assert.same({pk = {S = "tx2"}}, items[2].Update.Key)
    assert.same({NS = {"7", "8"}}, items[2].Update.ExpressionAttributeValues[":n"])
    assert.same({BOOL = true}, items[3].ConditionCheck.ExpressionAttributeValues[":b"])
    assert.same({pk = {S = "tx4"}}, items[4].Delete.Key)
  end)

  it("transactGet marshals each Get's Key and unmarshals Responses", function()
    local key = recorder.key("txg")
    recorder.reply(key, {body = core.json_encode({Responses = {
      {Item = {pk = {S = "tx"}, v = {M = {a = {L = {{N = "1"}}}}}}},
      {Item = {pk = {S = "tx2"}, s = {NS = {"7", "8"}}}},
    }})})
    local client = client_for(key)
    local got = await(client:transactGet({TransactItems = {
      {Get = {TableName = "t", Key = {pk = "tx", sk = 1}}},
      {Get = {TableName = "t", Key = {pk = "tx2", sk = 2}}},
    }}))
    local sent = core.json_decode(recorder.last(key).body)
    assert.same({pk = {S = "tx"}, sk = {N = "1"}}, sent.TransactItems[1].Get.Key)
    assert.equal(1, got.Responses[1].Item.v.a[1])
    assert.equal("Number", got.Responses[2].Item.s.type)
    assert.same({7, 8}, got.Responses[2].Item.s.values)
  end)
end)
