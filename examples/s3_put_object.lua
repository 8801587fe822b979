-- The seed's second example: S3 putObject with :next(...):catch(...).
local AWS = require "awspromise"

local s3 = AWS.S3({apiVersion = '2006-03-01', region = 'us-west-2'})
local params = {
  Bucket = 'bucket',
  Key = 'example2.txt',
  Body = 'Uploaded text using the promise-based method!'
}
local putObjectPromise = s3:putObject(params):promise()
putObjectPromise:next(function(data)
  print('Success')
end):catch(function(err)
  print(err)
end)
