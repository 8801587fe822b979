-- SQS: a request naming a QueueUrl goes to that queue's host (and region); the MD5 digests of
-- message bodies and attributes that SQS returns are checked (computeChecksums = false skips it).
local core = require "awspromise.core"
local support = require "awspromise.customizations.support"

local md5 = core.crypto.md5

local function md5_hex(text) return md5(text, "hex") end

-- The digest of message attributes SQS documents: for each name in byte order, the name, the
-- data type, a transport byte (1 text, 2 binary) and the value, each text length-prefixed
-- (4 bytes, big-endian).
local function attributes_md5(attributes)
  if type(attributes) ~= "table" or next(attributes) == nil then return nil end
  local names = {}
  for name in pairs(attributes) do names[#names + 1] = name end
  table.sort(names)
  local parts = {}
  local function add(text) parts[#parts + 1] = string.pack(">s4", text) end
  for _, name in ipairs(names) do
    local a = attributes[name]
    add(name)
    add(a.DataType or "")
    if a.BinaryValue ~= nil then
      parts[#parts + 1] = "\2"
      add(a.BinaryValue)
    else
      parts[#parts + 1] = "\1"
      add(a.StringValue or "")
    end
  end
  return md5_hex(table.concat(parts))
end

-- The ids whose digests differ, or nil.
local function check_message(body, attributes, body_md5, attributes_md5_given)
  if body_md5 ~= nil and md5_hex(body or "") ~= body_md5 then return "body" end
  if attributes_md5_given ~= nil and attributes_md5(attributes) ~= attributes_md5_given then return "attributes" end
  return nil
end

local function invalid(request, ids, detail)
  return support.make_error("InvalidChecksum", request.operation .. " returned an invalid MD5 response. " .. detail,
    {messageIds = ids, retryable = true})
end

local CHECKS = {
  SendMessage = function(request, data)
    local p = request.params
    local what = check_message(p.MessageBody, p.MessageAttributes, data.MD5OfMessageBody, data.MD5OfMessageAttributes)
    if what then
      return invalid(request, {data.MessageId}, "The MD5 of the message " .. what .. " differs from what was sent.")
    end
  end,
  SendMessageBatch = function(request, data)
    local sent = {}
    for _, entry in ipairs(request.params.Entries or {}) do sent[entry.Id] = entry end
    local bad, ids = {}, {}
    for _, ok in ipairs(data.Successful or {}) do
      local entry = sent[ok.Id]
      if entry and check_message(entry.MessageBody, entry.MessageAttributes, ok.MD5OfMessageBody, ok.MD5OfMessageAttributes) then
        bad[#bad + 1], ids[#ids + 1] = ok.Id, ok.MessageId
      end
    end
    if #bad > 0 then return invalid(request, ids, "Invalid messages: " .. table.concat(bad, ", ")) end
  end,
  ReceiveMessage = function(request, data)
    local ids = {}
    for _, m in ipairs(data.Messages or {}) do
      if check_message(m.Body, m.MessageAttributes, m.MD5OfBody, m.MessageAttributes and m.MD5OfMessageAttributes) then
        ids[#ids + 1] = m.MessageId
      end
    end
    if #ids > 0 then return invalid(request, ids, "Invalid messages: " .. table.concat(ids, ", ")) end
  end,
}

local function check_response(request, ok, data)
  if not ok or type(data) ~= "table" then return ok, data end
  local err = CHECKS[request.operation](request, data)
  if err then return false, err end
  return ok, data
end

local function request_hook(service, request)
  if CHECKS[request.operation] and service.config.computeChecksums ~= false then
    request.checkResponse = check_response
  end
  support.after_build(request, function(http, req)
    local origin, hostname = support.origin(req.params.QueueUrl)
    if not origin then return end
    support.move_to(http, origin, hostname)
    req.signingRegion = hostname:match("^sqs%.([%w-]+)%.")
  end)
  request:on("sign", function(req)
    local region = req.signingRegion
    if region and req.credentials then
      req.httpRequest.sign = req.service:signingOptions(req.credentials, region)
    end
  end)
end

return {request = request_hook, attributesMd5 = attributes_md5}
