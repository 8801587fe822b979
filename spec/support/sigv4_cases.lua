-- Loads the external SigV4 test data (../shared/testdata/sigv4) and turns a case into arguments
-- for awspromise.signer. Used by spec/signer_suite_spec.lua and spec/signer_spec.lua.
local M = {}

local function dirname(p)
  return p:match("^(.*)/[^/]*$") or "."
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- This file lives in spec/support/, so the repository root is two levels up.
local here = dirname(debug.getinfo(1, "S").source:gsub("^@", ""))
M.spec_dir = dirname(here)
M.repo_root = dirname(M.spec_dir)
M.json = dofile(here .. "/json.lua")

function M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Returns the sigv4 test data folder, or nil and a message saying where it was looked for.
function M.root()
  local candidates = {}
  if os.getenv("AWSPROMISE_SHARED") then
    candidates[#candidates + 1] = os.getenv("AWSPROMISE_SHARED") .. "/testdata/sigv4"
  end
  candidates[#candidates + 1] = M.repo_root .. "/../shared/testdata/sigv4"
  candidates[#candidates + 1] = "../shared/testdata/sigv4"
  for _, c in ipairs(candidates) do
    if exists(c .. "/aws-c-auth/v4/get-vanilla/context.json") then return c end
  end
  return nil, "../shared/testdata/sigv4 absent (looked in " .. table.concat(candidates, ", ") ..
    "): the SigV4 test-suite specs are skipped"
end

function M.aws_case_names(root)
  local names = {}
  local p = assert(io.popen('ls -1 "' .. root .. '/aws-c-auth/v4"'))
  for line in p:lines() do
    if exists(root .. "/aws-c-auth/v4/" .. line .. "/context.json") then names[#names + 1] = line end
  end
  p:close()
  table.sort(names)
  return names
end

-- request.txt: the request line, header lines (a line starting with white space continues the
-- previous value), then optionally a blank line and the body.
function M.parse_request(text)
  local head, body = text:match("^(.-)\n\n(.*)$")
  if not head then head, body = text:gsub("\n$", ""), "" end
  local lines = {}
  for line in (head .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = line end
  local line1 = table.remove(lines, 1)
  local method, target = line1:match("^(%S+) (.*) HTTP/1%.1$")
  assert(method, "bad request line: " .. line1)
  local path, query = target:match("^([^?]*)%?(.*)$")
  if not path then path = target end
  local headers = {}
  for _, line in ipairs(lines) do
    if line:match("^[ \t]") then
      local last = headers[#headers]
      last[2] = last[2] .. "\n" .. line
    else
      local name, value = line:match("^([^:]+):(.*)$")
      assert(name, "bad header line: " .. line)
      headers[#headers + 1] = { name, value }
    end
  end
  return { method = method, path = path, query = query, headers = headers, body = body,
    line1 = line1, header_lines = lines, target = target }
end

-- The aws-c-auth context timestamp is ISO 8601 ("2015-08-30T12:36:00Z"); the signer takes it as is.
function M.load_aws_case(root, name)
  local dir = root .. "/aws-c-auth/v4/" .. name .. "/"
  local ctx = M.json.decode(M.read(dir .. "context.json"))
  local c = { name = name, context = ctx, request = M.parse_request(M.read(dir .. "request.txt")), expect = {} }
  for _, form in ipairs({ "header", "query" }) do
    c.expect[form] = {
      canonical_request = M.read(dir .. form .. "-canonical-request.txt"),
      string_to_sign = M.read(dir .. form .. "-string-to-sign.txt"),
      signature = M.read(dir .. form .. "-signature.txt"),
      signed_request = M.read(dir .. form .. "-signed-request.txt"),
    }
  end
  return c
end

function M.signer_args(c, form)
  local ctx, r = c.context, c.request
  local request = { method = r.method, path = r.path, query = r.query, headers = r.headers, body = r.body }
  local creds = {
    accessKeyId = ctx.credentials.access_key_id,
    secretAccessKey = ctx.credentials.secret_access_key,
    sessionToken = ctx.credentials.token,
  }
  local opts = {
    time = ctx.timestamp,
    region = ctx.region,
    service = ctx.service,
    normalize = ctx.normalize,
    -- The suite's paths are request-line paths that every generic service encodes once more.
    double_encode = true,
    sign_body = ctx.sign_body,
    omit_session_token = ctx.omit_session_token or false,
    presign = form == "query" and ctx.expiration_in_seconds or nil,
  }
  return request, creds, opts
end

-- Rebuilds the signed request the way the suite prints it: the original request line and
-- header lines, the added headers (or the query parameters), a blank line, the body.
function M.signed_request(c, result, form)
  local r = c.request
  local out = {}
  if form == "query" then
    out[1] = ("%s %s?%s HTTP/1.1"):format(r.method, r.path, result.query)
  else
    out[1] = r.line1
  end
  for _, line in ipairs(r.header_lines) do out[#out + 1] = line end
  if form == "header" then
    for _, h in ipairs(result.add_headers) do out[#out + 1] = h[1] .. ":" .. h[2] end
  end
  return table.concat(out, "\n") .. "\n\n" .. r.body
end

function M.load_s3_examples(root)
  return M.json.decode(M.read(root .. "/s3-docs-examples/s3-sigv4-doc-examples.json"))
end

-- "https://host/path?query" -> host, path, query (nil when absent)
function M.split_url(url)
  local host, rest = url:match("^https?://([^/]+)(.*)$")
  local path, query = rest:match("^([^?]*)%?(.*)$")
  return host, path or rest, query
end

return M
