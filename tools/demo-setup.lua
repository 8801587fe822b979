-- Prepares the local services for the seed's examples (make demo): the bucket the S3 example
-- writes to and the table with the three items the DynamoDB example reads. Not an example.
local AWS = require "awspromise"

local s3 = AWS.S3()
local dynamodb = AWS.DynamoDB()

local function ignore_exists(p, code)
  return p:catch(function(err) if err.code ~= code then error(err, 0) end end)
end

AWS.async(function()
  ignore_exists(s3:createBucket({Bucket = "bucket"}):promise(), "BucketAlreadyOwnedByYou"):await()
  ignore_exists(dynamodb:createTable({
    TableName = "example-table",
    KeySchema = {{AttributeName = "id", KeyType = "HASH"}},
    AttributeDefinitions = {{AttributeName = "id", AttributeType = "S"}},
    ProvisionedThroughput = {ReadCapacityUnits = 5, WriteCapacityUnits = 5},
  }):promise(), "ResourceInUseException"):await()
  for _ = 1, 200 do -- a new table is CREATING at first
    if dynamodb:describeTable({TableName = "example-table"}):promise():await().Table.TableStatus == "ACTIVE" then break end
    AWS.util.delay(25):await()
  end
  local names = {"first", "second", "third"}
  local puts = {}
  for i, name in ipairs(names) do
    puts[i] = dynamodb:putItem({TableName = "example-table", Item = {id = {S = tostring(i)}, name = {S = name}}}):promise()
  end
  AWS.Promise.all(puts):await()
end):catch(function(err)
  io.stderr:write("demo setup failed: ", tostring(err), "\n")
  os.exit(1)
end)
AWS.run()
