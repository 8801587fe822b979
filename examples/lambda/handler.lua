-- The seed's third example as a real Lambda function (_HANDLER = handler.handler): three
-- DynamoDB calls, and the answer once all three promises are fulfilled. The runtime
-- (awspromise.lambda) turns the loop while the calls run, so they run at the same time.
local AWS = require "awspromise"

local dynamodb = AWS.DynamoDB({apiVersion = '2012-08-10'})

local M = {}

function M.handler(event, context, callback)
  local table_name = event.table or os.getenv("EXAMPLE_TABLE") or "example-table"
  local firstPromise = dynamodb:getItem({TableName = table_name, Key = {id = {S = '1'}}}):promise()
  local secondPromise = dynamodb:getItem({TableName = table_name, Key = {id = {S = '2'}}}):promise()
  local thirdPromise = dynamodb:getItem({TableName = table_name, Key = {id = {S = '3'}}}):promise()

  AWS.Promise.all({firstPromise, secondPromise, thirdPromise}):next(function(values)
    print("Value 0 is " .. values[1].Item.name.S)
    print("Value 1 is " .. values[2].Item.name.S)
    print("Value 2 is " .. values[3].Item.name.S)
    -- return the result to the caller of the Lambda function
    callback(nil, values)
  end):catch(function(err) callback(err) end)
end

return M
