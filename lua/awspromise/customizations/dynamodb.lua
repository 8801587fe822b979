-- DynamoDB: the CRC32 check of replies and the 50 ms retry base are in the core and service
-- layers; here the class members AWS.DynamoDB.DocumentClient, .Converter and the value markers.
local dynamodb = require "awspromise.dynamodb"

local members = {}

-- AWS.DynamoDB.DocumentClient(options) and AWS.DynamoDB.DocumentClient.new(options).
function members.DocumentClient(ctor)
  local function construct(options) return dynamodb.DocumentClient.new(ctor, options) end
  return setmetatable({new = construct}, {__call = function(_, options) return construct(options) end})
end

for _, name in ipairs {"Converter", "NULL", "list", "map", "binary", "number", "set"} do
  members[name] = function() return dynamodb[name] end
end

return {classMembers = members}
