-- Waiters: client:waitFor(state, params) is a Request; $waiter overrides the model's delay and attempts.
local AWS = require "awspromise"

local s3 = AWS.S3({apiVersion = '2006-03-01'})
local ec2 = AWS.EC2()
local dynamodb = AWS.DynamoDB()

-- JS v2 style: promise() and send(callback).
s3:waitFor('bucketExists', {Bucket = 'bucket'}):promise():next(function()
  print('bucketExists: the bucket is there')
end)
dynamodb:waitFor('tableExists', {TableName = 'example-table'}, function(err, data)
  if err then return print('tableExists failed: ' .. tostring(err)) end
  print('tableExists: ' .. data.Table.TableStatus)
end)
AWS.run()

AWS.async(function()
  local run = ec2:runInstances({ImageId = 'ami-0abcdef1234567890', InstanceType = 't3.nano',
    MinCount = 1, MaxCount = 1}):promise():await()
  local id = run.Instances[1].InstanceId
  print('runInstances: ' .. id .. ' is ' .. run.Instances[1].State.Name)
  local data = ec2:waitFor('instanceRunning', {InstanceIds = {id}, ['$waiter'] = {delay = 0.5, maxAttempts = 20}})
    :promise():await()
  print('instanceRunning: ' .. id .. ' is ' .. data.Reservations[1].Instances[1].State.Name)
  ec2:terminateInstances({InstanceIds = {id}}):promise():await()
  ec2:waitFor('instanceTerminated', {InstanceIds = {id}, ['$waiter'] = {delay = 0.5}}):promise():await()
  print('instanceTerminated: ' .. id)
  -- A waiter that gives up: ResourceNotReady, with the last attempt's error.
  local ok, err = pcall(function()
    return s3:waitFor('objectExists', {Bucket = 'bucket', Key = 'never-written',
      ['$waiter'] = {delay = 0.1, maxAttempts = 2}}):promise():await()
  end)
  print('objectExists: ' .. (ok and 'found?' or (err.code .. ' after ' .. (err.retryCount + 1) ..
    ' attempts, last error ' .. err.originalError.code)))
end):catch(function(err) print('waiter example failed: ' .. tostring(err)) end)
AWS.run()
