-- Benchmark of the SigV4 signer on its hot path: Authorization-header signing of a typical
-- S3 PUT (6 request headers, 1 KiB body), with the payload hash precomputed and with the body
-- hashed by the signer. CPU time via os.clock.
--   lua5.4 bench/signer.lua [iterations]     (default 200000)
-- Without LUA_PATH / LUA_CPATH it uses this checkout's lua/ and build/.
local root = (debug.getinfo(1, "S").source:gsub("^@", ""):match("^(.*)/bench/[^/]*$")) or "."
if not os.getenv("LUA_PATH") then package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path end
if not os.getenv("LUA_CPATH") then package.cpath = root .. "/build/?.so;" .. package.cpath end

local signer = require("awspromise.signer")
local N = tonumber(arg and arg[1]) or 200000

local body = string.rep("x", 1024)
local creds = { accessKeyId = "AKIAIOSFODNN7EXAMPLE", secretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  sessionToken = nil }
local opts = { time = 1716508800, region = "eu-west-1", service = "s3" }
local headers = {
  { "Host", "examplebucket.s3.eu-west-1.amazonaws.com" },
  { "Content-Type", "application/octet-stream" },
  { "Content-Length", "1024" },
  { "x-amz-storage-class", "STANDARD" },
  { "x-amz-meta-owner", "bench" },
  { "Cache-Control", "no-cache" },
}
local hash = signer.sign({ method = "PUT", path = "/", body = body }, creds, opts).payload_hash

local variants = {
  { "precomputed payload hash", { method = "PUT", path = "/photos/2024/05/cat.jpg", headers = headers, payload_hash = hash } },
  { "1 KiB body hashed", { method = "PUT", path = "/photos/2024/05/cat.jpg", headers = headers, body = body } },
}

print(("signer bench: %d header signings of an S3 PUT per variant"):format(N))
for _, v in ipairs(variants) do
  local name, request = v[1], v[2]
  local ref = signer.sign(request, creds, opts).signature
  for _ = 1, 1000 do signer.sign(request, creds, opts) end -- warm the key cache and buffers
  local t0 = os.clock()
  local last
  for _ = 1, N do last = signer.sign(request, creds, opts) end
  local dt = os.clock() - t0
  assert(last.signature == ref)
  print(("  %-26s %7.2f us/signing  (%.0f signings/s)"):format(name, dt / N * 1e6, N / dt))
end
