-- The seed's third example: a Lambda-style handler that makes three DynamoDB calls and completes
-- only when all three promises are fulfilled (AWS.Promise.all). The handler is the Lambda
-- function of examples/lambda/handler.lua; here it runs once, in this process, with a callback
-- that prints what Lambda would return.
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
package.path = here .. "/lambda/?.lua;" .. package.path
local handler = require("handler").handler

handler({table = os.getenv("EXAMPLE_TABLE") or "example-table"}, {}, function(err, values)
  if err then print("handler failed: " .. tostring(err)) else print("handler done: " .. #values .. " items") end
end)
