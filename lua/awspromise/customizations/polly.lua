-- Polly: AWS.Polly.Presigner, presigned GET URLs of synthesizeSpeech (for an <audio> element).
local presign = require "awspromise.customizations.presign"
local signer = require "awspromise.signer"
local support = require "awspromise.customizations.support"

local DEFAULT_EXPIRES = 3600

local Presigner = {}
Presigner.__index = Presigner

-- The params as a query: names in order, lists as repeated names.
local function query_of(params)
  local names = {}
  for name in pairs(params) do names[#names + 1] = name end
  table.sort(names)
  local parts = {}
  for _, name in ipairs(names) do
    local value = params[name]
    local values = type(value) == "table" and value or {value}
    for _, v in ipairs(values) do
      parts[#parts + 1] = signer.uri_encode(name) .. "=" .. signer.uri_encode(tostring(v))
    end
  end
  return table.concat(parts, "&")
end

-- presigner:getSynthesizeSpeechUrl(params[, expires][, callback(err, url)]) -> url
function Presigner:getSynthesizeSpeechUrl(params, expires, callback)
  if callback == nil and type(expires) == "function" then expires, callback = nil, expires end
  local service = self.service
  local merged = support.merged(self.params, params)
  local function url_with(creds)
    local ep = service:resolvedEndpoint()
    local origin, host = ep.url:match("^(%a[%w+.-]*://([^/]+))")
    return presign.url(origin, host, "/v1/speech", query_of(merged), creds, ep.signingRegion, ep.signingName,
      expires or DEFAULT_EXPIRES)
  end
  local creds, pending = service:cachedCredentials()
  if callback == nil then
    if not creds then
      error(support.make_error("CredentialsError",
        "getSynthesizeSpeechUrl without a callback needs credentials at hand"), 2)
    end
    return url_with(creds)
  end
  if creds then return callback(nil, url_with(creds)) end
  pending:next(function(c) callback(nil, url_with(c)) end, function(err) callback(err, nil) end)
end

return {
  classMembers = {
    Presigner = function(ctor)
      local function construct(options)
        options = options or {}
        return setmetatable({service = options.service or ctor(options), params = options.params}, Presigner)
      end
      return setmetatable({new = construct}, {__call = function(_, options) return construct(options) end})
    end,
  },
}
