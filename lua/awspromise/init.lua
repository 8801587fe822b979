-- awspromise: AWS requests settled into promises. `local AWS = require "awspromise"`.
local core = require "awspromise.core"
local Promise = require "awspromise.promise"

local AWS = {VERSION = require "awspromise.version"}

-- AWS.Promise.new(executor), AWS.Promise(executor), and the combinators.
AWS.Promise = setmetatable(Promise, {__call = function(_, executor) return Promise.new(executor) end})
for _, name in ipairs {"new", "resolve", "reject", "all", "allSettled", "race", "any"} do
  AWS[name] = Promise[name]
end
AWS.async = Promise.async

AWS.run = core.run
AWS.loop = {fd = core.fd, timeout = core.timeout, step = core.step, alive = core.alive}
AWS.util = require "awspromise.util"

AWS.config = require("awspromise.config").new()
core.set_config(AWS.config)
AWS.util.config = AWS.config -- AWS.util.date.getDate() follows systemClockOffset

-- AWS.Credentials, the provider classes and AWS.CredentialProviderChain (credentials/classes.lua).
do
  local classes = require "awspromise.credentials.classes"
  for _, file in ipairs {"temporary", "cognito", "sso", "token"} do require("awspromise.credentials." .. file) end
  for name, value in pairs(classes) do
    if type(value) == "table" and rawget(value, "className") == name then AWS[name] = value end
  end
end

AWS.Request = require "awspromise.request"
AWS.events = require("awspromise.events").emitter -- listeners every request gets

local Service = require "awspromise.service"

-- AWS.Service{apiConfig = model, ...}: a client for any model.
AWS.Service = setmetatable({new = function(options) return Service.new(AWS.config, options) end},
  {__call = function(_, options) return Service.new(AWS.config, options) end})

-- AWS.S3, AWS.EC2, ...: one constructor per class name of the shipped models, made on first use
-- so that `require` reads no model files.
local classes
local function class_named(name)
  if not classes then
    classes = {}
    local ok, models = pcall(require, "awspromise.models")
    if ok then
      for id, info in pairs(models.services()) do
        if type(info) == "table" and info.name then classes[info.name] = {id = id, name = info.name} end
      end
    end
  end
  local class = classes[name]
  if not class then return nil end
  local function construct(options) return Service.new(AWS.config, options, class) end
  return setmetatable({new = construct, serviceIdentifier = class.id},
    {__call = function(_, options) return construct(options) end,
     -- customization hook: AWS.DynamoDB.DocumentClient, AWS.RDS.Signer, AWS.Polly.Presigner, ...
     __index = function(ctor, key)
       local member = require("awspromise.customizations").class_member(class.id, key, ctor)
       if member ~= nil then rawset(ctor, key, member) end
       return member
     end})
end

return setmetatable(AWS, {__index = function(t, name)
  if type(name) ~= "string" then return nil end
  local ctor = class_named(name)
  if ctor then rawset(t, name, ctor) end
  return ctor
end})
