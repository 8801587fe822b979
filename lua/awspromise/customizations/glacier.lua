-- Glacier: accountId defaults to "-" (the caller's account), every request carries the API
-- version header, and uploads carry their SHA-256 (linear) and tree hash.
local core = require "awspromise.core"
local support = require "awspromise.customizations.support"

local sha256 = core.crypto.sha256
local MB = 1024 * 1024

-- The tree hash Glacier documents: SHA-256 of each 1 MiB chunk, then of each adjacent pair,
-- until one remains (an odd one out moves up unchanged).
local function tree_hash(data)
  local level = {}
  for i = 1, math.max(#data, 1), MB do level[#level + 1] = sha256(data:sub(i, i + MB - 1)) end
  while #level > 1 do
    local up = {}
    for i = 1, #level, 2 do up[#up + 1] = level[i + 1] and sha256(level[i] .. level[i + 1]) or level[i] end
    level = up
  end
  return (level[1]:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function request_hook(service, request)
  support.rewrite_params(request, function(params)
    if params.accountId == nil then params.accountId = "-" end
  end)
  support.after_build(request, function(http, req)
    http.headers["x-amz-glacier-version"] = service.api.apiVersion
    local body = req.params.body
    if type(body) ~= "string" then return end
    http.headers["X-Amz-Content-Sha256"] = sha256(body, "hex")
    support.set_header_unless_given(http, "x-amz-sha256-tree-hash", tree_hash(body))
  end)
end

return {request = request_hook, treeHash = tree_hash}
