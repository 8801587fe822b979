-- The seed's third example: a Lambda-style handler that makes three DynamoDB calls and completes
-- only when all three promises are fulfilled (AWS.Promise.all).
local AWS = require "awspromise"

local dynamodb = AWS.DynamoDB({apiVersion = '2012-08-10'})

local function handler(event, context, callback)
  local firstPromise = dynamodb:getItem({TableName = event.table, Key = {id = {S = '1'}}}):promise()
  local secondPromise = dynamodb:getItem({TableName = event.table, Key = {id = {S = '2'}}}):promise()
  local thirdPromise = dynamodb:getItem({TableName = event.table, Key = {id = {S = '3'}}}):promise()

  AWS.Promise.all({firstPromise, secondPromise, thirdPromise}):next(function(values)
    print("Value 0 is " .. values[1].Item.name.S)
    print("Value 1 is " .. values[2].Item.name.S)
    print("Value 2 is " .. values[3].Item.name.S)
    -- return the result to the caller of the Lambda function
    callback(nil, values)
  end):catch(function(err) callback(err) end)
end

handler({table = os.getenv("EXAMPLE_TABLE") or "example-table"}, {}, function(err, values)
  if err then print("handler failed: " .. tostring(err)) else print("handler done: " .. #values .. " items") end
end)
