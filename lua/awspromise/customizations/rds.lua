-- RDS: cross-region copies with SourceRegion (rds_cross_region.lua), and AWS.RDS.Signer: IAM
-- database authentication tokens.
local presign = require "awspromise.customizations.presign"
local signer = require "awspromise.signer"
local support = require "awspromise.customizations.support"

local customization = require("awspromise.customizations.rds_cross_region") {
  "CopyDBSnapshot", "CreateDBInstanceReadReplica", "CreateDBCluster", "CopyDBClusterSnapshot",
  "StartDBInstanceAutomatedBackupsReplication",
}

local TOKEN_LIFETIME = 900
local REQUIRED = {region = "string", hostname = "string", port = "number", username = "string"}

local Signer = {}
Signer.__index = Signer

local function token_for(options, creds)
  local host = options.hostname .. ":" .. math.tointeger(options.port)
  local query = "Action=connect&DBUser=" .. signer.uri_encode(options.username)
  local url = presign.url("https://" .. host, host, "/", query, creds, options.region, "rds-db", TOKEN_LIFETIME)
  return url:sub(#"https://" + 1)
end

-- signer:getAuthToken([options][, callback(err, token)]): options merged over the signer's
-- (region, hostname, port, username, credentials). Without a callback the token is returned
-- and the credentials must be at hand (given, or already fetched).
function Signer:getAuthToken(options, callback)
  if callback == nil and type(options) == "function" then options, callback = nil, options end
  options = support.merged(self.options, options)
  for key, kind in pairs(REQUIRED) do
    if type(options[key]) ~= kind then
      local err = support.make_error("InvalidParameter", key .. " must be a " .. kind .. " (got " .. type(options[key]) .. ")")
      if callback then return callback(err, nil) end
      error(err, 2)
    end
  end
  local credentials = require "awspromise.credentials"
  local provider = credentials.for_config({credentials = options.credentials or self.globalConfig.credentials})
  local ready = provider:peek()
  if callback == nil then
    if not ready then error(support.make_error("CredentialsError", "getAuthToken without a callback needs credentials at hand"), 2) end
    return token_for(options, ready)
  end
  local function done(creds) callback(nil, token_for(options, creds)) end
  if ready then return done(ready) end
  provider:get():next(done, function(err) callback(err, nil) end)
end

customization.classMembers = {
  Signer = function()
    local global = require("awspromise").config
    local function construct(options) return setmetatable({options = options or {}, globalConfig = global}, Signer) end
    return setmetatable({new = construct}, {__call = function(_, options) return construct(options) end})
  end,
}
return customization
