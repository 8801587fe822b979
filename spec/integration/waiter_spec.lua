-- Waiters against the local services: S3 (bucketExists, objectNotExists, objectExists running out
-- of attempts), DynamoDB (tableExists, tableNotExists) and the EC2 fixture, whose instances change
-- state over time (instanceRunning, instanceTerminated, and a failure acceptor).
local AWS = require "awspromise"
local local_aws = require "support.local_aws"
local support = require "support.loop"

local aws, s3, dynamodb, ec2
local STAMP = tostring(os.time())
local FAST = {delay = 0.05, maxAttempts = 60}

local function fast(params, overrides)
  local copy = {}
  for k, v in pairs(params) do copy[k] = v end
  copy["$waiter"] = overrides or FAST
  return copy
end

setup(function()
  aws = local_aws.get()
  s3 = AWS.S3(aws.options("s3"))
  dynamodb = AWS.DynamoDB(aws.options("dynamodb"))
  ec2 = AWS.EC2(aws.options("ec2"))
end)

-- Counts the waiter's retries (the attempts after the first).
local function counting(request)
  local counter = {retries = 0}
  request:on("retry", function() counter.retries = counter.retries + 1 end)
  return request, counter
end

describe("S3 waiters", function()
  local BUCKET = "waiter-" .. STAMP

  it("bucketExists waits for a bucket created while it waits", function()
    local waiter, counter = counting(s3:waitFor("bucketExists", fast {Bucket = BUCKET}))
    local p = waiter:promise()
    AWS.util.delay(200):await()
    s3:createBucket({Bucket = BUCKET}):promise():await()
    local data = p:await()
    assert.is_table(data)
    assert.equal(200, waiter.response.statusCode)
    assert.is_true(counter.retries >= 1, "the bucket existed before the waiter looked")
    assert.equal(counter.retries, waiter.retryCount)
  end)

  it("bucketExists for an existing bucket succeeds at the first attempt, with send(callback)", function()
    local got
    local waiter = s3:waitFor("bucketExists", {Bucket = BUCKET}, function(err, data) got = {err = err, data = data} end)
    AWS.run()
    assert.is_nil(got.err)
    assert.is_table(got.data)
    assert.equal(0, waiter.retryCount)
  end)

  it("objectNotExists waits until the object is deleted", function()
    s3:putObject({Bucket = BUCKET, Key = "doomed", Body = "x"}):promise():await()
    local waiter, counter = counting(s3:waitFor("objectNotExists", fast {Bucket = BUCKET, Key = "doomed"}))
    local p = waiter:promise()
    AWS.util.delay(150):await()
    s3:deleteObject({Bucket = BUCKET, Key = "doomed"}):promise():await()
    p:await()
    assert.is_true(counter.retries >= 1)
    assert.equal(404, waiter.response.statusCode)
  end)

  it("runs out of attempts: ResourceNotReady carrying the last response", function()
    local waiter, counter = counting(s3:waitFor("objectExists",
      fast({Bucket = BUCKET, Key = "never"}, {delay = 0.02, maxAttempts = 3})))
    local state, err = support.settle(waiter:promise())
    assert.equal("rejected", state)
    assert.equal("ResourceNotReady", err.code)
    assert.equal("Resource is not in the state objectExists", err.message)
    assert.is_false(err.retryable)
    assert.equal(2, counter.retries) -- three attempts
    assert.equal(2, err.retryCount)
    assert.equal(404, err.statusCode)
    assert.equal("NotFound", err.originalError.code)
    assert.equal(404, err.lastResponse.statusCode)
  end)

  it("abort between attempts settles at once with RequestAbortedError", function()
    local waiter = s3:waitFor("objectExists", fast({Bucket = BUCKET, Key = "never"}, {delay = 30, maxAttempts = 5}))
    waiter:on("retry", function() AWS.util.delay(10):next(function() waiter:abort() end) end)
    local started = os.time()
    local state, err = support.settle(waiter:promise())
    assert.equal("rejected", state)
    assert.equal("RequestAbortedError", err.code)
    assert.is_true(os.time() - started < 5, "abort waited for the delay")
  end)

  it("an unknown waiter is StateNotFoundError", function()
    local ok, err = pcall(s3.waitFor, s3, "bucketIsShiny", {Bucket = BUCKET})
    assert.is_false(ok)
    assert.equal("StateNotFoundError", err.code)
    assert.equal("State bucketIsShiny not found.", err.message)
  end)
end)

describe("DynamoDB waiters", function()
  local TABLE = "waiter-" .. STAMP

  local function create_table(name)
    dynamodb:createTable({TableName = name, KeySchema = {{AttributeName = "id", KeyType = "HASH"}},
      AttributeDefinitions = {{AttributeName = "id", AttributeType = "S"}},
      ProvisionedThroughput = {ReadCapacityUnits = 1, WriteCapacityUnits = 1}}):promise():await()
  end

  it("tableExists after createTable, tableNotExists after deleteTable", function()
    create_table(TABLE)
    local data = dynamodb:waitFor("tableExists", fast {TableName = TABLE}):promise():await()
    assert.equal("ACTIVE", data.Table.TableStatus)
    dynamodb:deleteTable({TableName = TABLE}):promise():await()
    local waiter = dynamodb:waitFor("TableNotExists", fast {TableName = TABLE})
    waiter:promise():await()
    -- the error acceptor said success: the waiter fulfils although the last call failed
    assert.equal(400, waiter.response.statusCode)
    local state, err = support.settle(dynamodb:describeTable({TableName = TABLE}):promise())
    assert.equal("rejected", state)
    assert.equal("ResourceNotFoundException", err.code)
  end)

  it("tableExists retries on ResourceNotFoundException until the table appears", function()
    local name = TABLE .. "-late"
    local waiter, counter = counting(dynamodb:waitFor("tableExists", fast {TableName = name}))
    local p = waiter:promise()
    AWS.util.delay(150):await()
    create_table(name)
    assert.equal("ACTIVE", p:await().Table.TableStatus)
    assert.is_true(counter.retries >= 1)
  end)
end)

describe("EC2 waiters", function()
  -- Instances whose transitions last as long as their tags say (tools/ec2_fixture.py).
  local function run_instance(pending, shutdown)
    local data = ec2:runInstances({ImageId = "ami-0abcdef1234567890", InstanceType = "t3.nano", MinCount = 1,
      MaxCount = 1, TagSpecifications = {{ResourceType = "instance", Tags = {
        {Key = "fixture:pending-seconds", Value = tostring(pending)},
        {Key = "fixture:shutdown-seconds", Value = tostring(shutdown)}}}}}):promise():await()
    local instance = data.Instances[1]
    assert.equal("pending", instance.State.Name)
    return instance.InstanceId
  end

  it("instanceRunning waits while the instance is pending", function()
    local id = run_instance(0.5, 0)
    local waiter, counter = counting(ec2:waitFor("instanceRunning", fast {InstanceIds = {id}}))
    local data = waiter:promise():await()
    assert.equal("running", data.Reservations[1].Instances[1].State.Name)
    assert.is_true(counter.retries >= 1, "the instance was never seen pending")
  end)

  it("a failure acceptor ends the wait at once: instanceRunning sees shutting-down", function()
    local id = run_instance(0, 30)
    ec2:describeInstances({InstanceIds = {id}}):promise():await() -- running by now
    local stopped = ec2:terminateInstances({InstanceIds = {id}}):promise():await()
    assert.equal("shutting-down", stopped.TerminatingInstances[1].CurrentState.Name)
    local waiter, counter = counting(ec2:waitFor("instanceRunning", fast {InstanceIds = {id}}))
    local state, err = support.settle(waiter:promise())
    assert.equal("rejected", state)
    assert.equal("ResourceNotReady", err.code)
    assert.equal(0, counter.retries)
    assert.equal("shutting-down", err.lastResponse.data.Reservations[1].Instances[1].State.Name)
    assert.is_nil(err.originalError)
  end)

  it("instanceTerminated waits through shutting-down", function()
    local id = run_instance(0, 0.4)
    ec2:describeInstances({InstanceIds = {id}}):promise():await()
    ec2:terminateInstances({InstanceIds = {id}}):promise():await()
    local waiter, counter = counting(ec2:waitFor("instanceTerminated", fast {InstanceIds = {id}}))
    local data = waiter:promise():await()
    assert.equal("terminated", data.Reservations[1].Instances[1].State.Name)
    assert.is_true(counter.retries >= 1)
  end)
end)

describe("waitFor as a Request", function()
  it("gives each attempt the per-request listeners and fires complete once", function()
    local builds, completes = 0, 0
    local waiter = s3:waitFor("objectExists", fast({Bucket = "waiter-" .. STAMP, Key = "never"},
      {delay = 0.01, maxAttempts = 2}))
    waiter:on("build", function() builds = builds + 1 end)
    waiter:on("complete", function() completes = completes + 1 end)
    support.settle(waiter:promise())
    assert.equal(2, builds)
    assert.equal(1, completes)
  end)

  it("a success listener that raises makes its error the outcome", function()
    local waiter = s3:waitFor("bucketExists", {Bucket = "waiter-" .. STAMP})
    waiter:on("success", function() error({code = "ListenerSaysNo"}) end)
    local state, err = support.settle(waiter:promise())
    assert.equal("rejected", state)
    assert.equal("ListenerSaysNo", err.code)
  end)

  it("promise() follows the promise dependency like any request", function()
    local made = 0
    local function library(executor)
      made = made + 1
      return AWS.Promise.new(executor)
    end
    AWS.config.setPromisesDependency(library)
    local ok, err = pcall(function()
      s3:waitFor("bucketExists", {Bucket = "waiter-" .. STAMP}):promise():await()
    end)
    AWS.config.setPromisesDependency(nil)
    assert.is_true(ok, tostring(err))
    assert.equal(1, made)
  end)

  it("refuses a malformed $waiter", function()
    assert.has_error(function() s3:waitFor("bucketExists", {Bucket = "b", ["$waiter"] = {delay = -1}}) end)
    assert.has_error(function() s3:waitFor("bucketExists", {Bucket = "b", ["$waiter"] = {maxAttempts = 0}}) end)
    assert.has_error(function() s3:waitFor("bucketExists", {Bucket = "b", ["$waiter"] = 5}) end)
  end)
end)
