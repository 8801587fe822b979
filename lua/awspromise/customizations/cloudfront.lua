-- CloudFront: AWS.CloudFront.Signer(keyPairId, privateKeyPem): signed URLs and cookies for
-- private content, with a canned policy (an expiry) or a custom one (a policy JSON text),
-- signed with RSA-SHA1 as CloudFront requires.
local core = require "awspromise.core"
local support = require "awspromise.customizations.support"

local crypto = core.crypto

local Signer = {}
Signer.__index = Signer

-- CloudFront's URL-safe base64: + - , = _ , / ~
local function safe_base64(bytes)
  return (crypto.base64_encode(bytes):gsub("[+=/]", {["+"] = "-", ["="] = "_", ["/"] = "~"}))
end

local function fail(message) error(support.make_error("InvalidParameter", message), 0) end

local function canned_policy(url, expires)
  return '{"Statement":[{"Resource":"' .. url .. '","Condition":{"DateLessThan":{"AWS:EpochTime":' ..
    string.format("%d", expires) .. '}}}]}'
end

-- {policy text or nil, expires or nil} checked, then the signature of the policy that applies.
function Signer:sign(options)
  if type(options) ~= "table" then fail("options must be a table") end
  local policy, expires = options.policy, options.expires
  if policy == nil then
    if type(options.url) ~= "string" then fail("a canned policy needs options.url") end
    if math.type(expires) == nil then fail("a canned policy needs options.expires (epoch seconds)") end
    expires = math.floor(expires)
    policy = canned_policy(options.url, expires)
  elseif type(policy) ~= "string" then
    fail("options.policy must be the policy's JSON text")
  end
  local signature, err = crypto.rsa_sha1(self.privateKey, policy)
  if not signature then fail(err) end
  local fields = {["Key-Pair-Id"] = self.keyPairId, Signature = safe_base64(signature)}
  if options.policy then fields.Policy = safe_base64(policy) else fields.Expires = string.format("%d", expires) end
  return fields
end

local FIELD_ORDER = {"Expires", "Policy", "Signature", "Key-Pair-Id"}

-- signer:getSignedUrl({url =, expires = | policy =}[, callback(err, url)]) -> url
function Signer:getSignedUrl(options, callback)
  local ok, fields = pcall(self.sign, self, options)
  local url
  if ok then
    local parts = {}
    for _, name in ipairs(FIELD_ORDER) do
      if fields[name] then parts[#parts + 1] = name .. "=" .. fields[name] end
    end
    url = options.url .. (options.url:find("?", 1, true) and "&" or "?") .. table.concat(parts, "&")
  end
  if callback then return callback(not ok and fields or nil, url) end
  if not ok then error(fields, 2) end
  return url
end

-- signer:getSignedCookie(options[, callback(err, cookies)]) -> {["CloudFront-Signature"] = ...}
function Signer:getSignedCookie(options, callback)
  local ok, fields = pcall(self.sign, self, options)
  local cookies
  if ok then
    cookies = {}
    for name, value in pairs(fields) do cookies["CloudFront-" .. name] = value end
  end
  if callback then return callback(not ok and fields or nil, cookies) end
  if not ok then error(fields, 2) end
  return cookies
end

local function construct(keyPairId, privateKey)
  if type(keyPairId) ~= "string" or type(privateKey) ~= "string" then
    error(support.make_error("InvalidParameter", "AWS.CloudFront.Signer needs a key pair id and a PEM private key"), 2)
  end
  return setmetatable({keyPairId = keyPairId, privateKey = privateKey}, Signer)
end

return {
  classMembers = {
    Signer = function()
      return setmetatable({new = construct}, {__call = function(_, ...) return construct(...) end})
    end,
  },
}
