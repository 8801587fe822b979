-- require "awspromise.dynamodb": the DocumentClient and the Converter with its markers, as
-- AWS.DynamoDB.DocumentClient, AWS.DynamoDB.Converter, AWS.DynamoDB.NULL, .list, .map, ...
local Converter = require "awspromise.dynamodb.converter"
local DocumentClient = require "awspromise.dynamodb.document_client"

return {
  Converter = Converter,
  DocumentClient = DocumentClient,
  NULL = Converter.NULL,
  list = Converter.list,
  map = Converter.map,
  binary = Converter.binary,
  number = Converter.number,
  set = Converter.set,
}
