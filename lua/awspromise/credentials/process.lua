-- Credentials printed by an external command: a profile's `credential_process`, whose standard
-- output is a JSON document {Version = 1, AccessKeyId, SecretAccessKey[, SessionToken,
-- Expiration]}.
local core = require "awspromise.core"
local context = require "awspromise.credentials.context"

local raise, message_of = context.raise, context.message_of
local process = {}

-- Runs `command` (from profile `name`); a promise of the credentials it prints.
function process.credentials(ctx, command, name)
  local ok, p = pcall(ctx.spawn, command, {timeout = ctx.opts.processTimeout or 60000})
  if not ok then return context.failed(("credential_process of profile '%s': %s"):format(name, message_of(p))) end
  local what = ("credential_process of profile '%s'"):format(name)
  return p:next(function(r)
    if r.status ~= 0 then
      local err = (r.stderr or ""):gsub("%s+$", "")
      if #err > 300 then err = err:sub(1, 300) .. "..." end
      raise(("%s exited with status %d%s"):format(what, r.status,
        err ~= "" and (": " .. err) or ""))
    end
    local doc, jerr = core.json_decode_safe(r.stdout or "")
    if type(doc) ~= "table" then
      raise(what .. " printed something that is not a JSON object" ..
        (jerr and (" (" .. jerr .. ")") or ""))
    end
    ctx:secret(doc.SecretAccessKey)
    ctx:secret(doc.SessionToken)
    if doc.Version ~= 1 then
      raise(("%s printed Version %s; only Version 1 is supported"):format(
        what, tostring(doc.Version)))
    end
    if type(doc.AccessKeyId) ~= "string" or type(doc.SecretAccessKey) ~= "string" then
      raise(what .. " printed no AccessKeyId/SecretAccessKey")
    end
    local expire
    if doc.Expiration ~= nil then
      expire = context.parse_time(doc.Expiration)
      if not expire then
        raise(what .. " printed an Expiration that is not ISO 8601")
      end
    end
    return {accessKeyId = doc.AccessKeyId, secretAccessKey = doc.SecretAccessKey,
      sessionToken = type(doc.SessionToken) == "string" and doc.SessionToken or nil, expireTime = expire}
  end, function(err)
    if type(err) == "table" and err.code == "CredentialsError" then error(err, 0) end
    raise(what .. ": " .. message_of(err))
  end)
end

return process
