-- The DynamoDB DocumentClient: items as plain Lua values, as AWS.DynamoDB.DocumentClient does in
-- JavaScript. Uses the table the DynamoDB example reads (EXAMPLE_TABLE, key "id" of type S).
local AWS = require "awspromise"

local docClient = AWS.DynamoDB.DocumentClient({params = {TableName = os.getenv("EXAMPLE_TABLE") or "example-table"}})

AWS.async(function()
  docClient:put({Item = {
    id = "doc-1",
    name = "Ada",
    visits = 1,
    tags = docClient:createSet({"math", "engines"}),
    address = {city = "London", lines = {"12 St James's Square"}},
    notes = AWS.DynamoDB.list{},   -- an empty list (a plain {} would be an empty map)
  }}):promise():await()

  local updated = docClient:update({
    Key = {id = "doc-1"},
    UpdateExpression = "SET visits = visits + :one ADD tags :more",
    ExpressionAttributeValues = {[":one"] = 1, [":more"] = docClient:createSet({"poetry"})},
    ReturnValues = "ALL_NEW",
  }):promise():await()
  local tags = updated.Attributes.tags.values
  table.sort(tags)
  print(("%s visited %d times; tags: %s; city: %s"):format(updated.Attributes.name, updated.Attributes.visits,
    table.concat(tags, ", "), updated.Attributes.address.city))

  -- get -> modify -> put: the empty list stays a list
  local item = docClient:get({Key = {id = "doc-1"}}):promise():await().Item
  item.notes[#item.notes + 1] = "wrote the first program"
  docClient:put({Item = item}):promise():await()
  print("notes: " .. docClient:get({Key = {id = "doc-1"}}):promise():await().Item.notes[1])

  docClient:delete({Key = {id = "doc-1"}}):promise():await()
end):catch(function(err)
  print("document client example failed: " .. tostring(err))
  os.exit(1)
end)
