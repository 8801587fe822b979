-- The seed's first example: EC2 describeInstances, its promise, and next(onFulfilled, onRejected).
-- Region, credentials and endpoint come from the usual places (environment, ~/.aws/...).
local AWS = require "awspromise"

local request = AWS.EC2({apiVersion = '2014-10-01'}):describeInstances()
-- create the promise object
local promise = request:promise()
-- handle promise's fulfilled/rejected states
promise:next(
  function(data)
    -- process the data
    for _, reservation in ipairs(data.Reservations) do
      for _, instance in ipairs(reservation.Instances) do
        print(string.format("instance %s  %s  %s", instance.InstanceId, instance.InstanceType, instance.State.Name))
      end
    end
  end,
  function(error)
    -- handle the error
    print("describeInstances failed: " .. tostring(error))
  end
)
