-- Paging: the JavaScript SDK v2's eachPage / eachItem, then Lua's generic for over client:paginate.
local AWS = require "awspromise"

local s3 = AWS.S3({apiVersion = '2006-03-01'})
local dynamodb = AWS.DynamoDB()

-- 25 keys to list, ten to a page.
local puts = {}
for i = 1, 25 do
  puts[i] = s3:putObject({Bucket = 'bucket', Key = string.format('paging/%02d.txt', i), Body = 'page me'}):promise()
end
AWS.Promise.all(puts):await()

-- JS v2: called per page, then once with data == nil.
local pages = 0
s3:listObjectsV2({Bucket = 'bucket', Prefix = 'paging/', MaxKeys = 10}):eachPage(function(err, data)
  if err then return print('eachPage failed: ' .. tostring(err)) end
  if data == nil then return print(string.format('eachPage: %d pages', pages)) end
  pages = pages + 1
  print(string.format('eachPage: page %d has %d keys, more: %s', pages, #data.Contents,
    tostring(data['$response']:hasNextPage())))
end)
AWS.run()

-- Lua: each page is fetched when the loop asks for it; break would abort the page in flight.
AWS.async(function()
  local n = 0
  for page in s3:paginate('listObjectsV2', {Bucket = 'bucket', Prefix = 'paging/'}, {PageSize = 10}) do
    n = n + 1
    print(string.format('paginate: page %d, first key %s', n, page.Contents[1].Key))
  end
  local last
  for object in s3:paginate('listObjectsV2', {Bucket = 'bucket', Prefix = 'paging/', MaxKeys = 10}):items() do
    last = object.Key
  end
  print('items: the last key is ' .. last)
  local items = dynamodb:paginate('scan', {TableName = 'example-table', Limit = 2}):all():await()
  print(string.format('all: the table has %d items', #items))
end):catch(function(err) print('paging failed: ' .. tostring(err)) end)
AWS.run()
