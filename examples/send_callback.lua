-- request:send(callback): the callback style the promise guide starts from.
local AWS = require "awspromise"

local s3 = AWS.S3({apiVersion = '2006-03-01'})
local request = s3:listObjectsV2({Bucket = 'bucket'})
request:send(function(err, data)
  if err then
    print("listObjectsV2 failed: " .. tostring(err))
  else
    for _, object in ipairs(data.Contents or {}) do
      print(string.format("%s  %d bytes", object.Key, object.Size))
    end
  end
end)
