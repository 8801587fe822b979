-- AWS.async and p:await(): sequential-looking code that only suspends its own coroutine.
local AWS = require "awspromise"

local s3 = AWS.S3({apiVersion = '2006-03-01'})

AWS.async(function()
  s3:putObject({Bucket = 'bucket', Key = 'async.txt', Body = 'written by AWS.async'}):promise():await()
  local object = s3:getObject({Bucket = 'bucket', Key = 'async.txt'}):promise():await()
  print("read back: " .. object.Body)
  local ok, err = pcall(function()
    return s3:getObject({Bucket = 'bucket', Key = 'no-such-key'}):promise():await()
  end)
  print("missing key: " .. (ok and "found?" or err.code))
end):catch(function(err) print("async failed: " .. tostring(err)) end)
