-- S3 addressing: where a request about a bucket goes. Virtual-hosted style moves the bucket into
-- the host name (my-bucket.s3.eu-west-1.amazonaws.com/key), path style keeps it as the first path
-- segment (s3.eu-west-1.amazonaws.com/my-bucket/key), and with s3BucketEndpoint the endpoint is
-- the bucket's own address already, so the bucket leaves the path.
--
--   s3.address(endpoint, bucket, path, options) -> address, path
--     endpoint  an endpoints.resolve() or endpoints.parse_url() result (protocol, hostname,
--               port, path)
--     bucket    the bucket name (params.Bucket)
--     path      the request path the REST binding built: "/" .. URI-encoded bucket .. the rest
--               ("/my-bucket/photos/cat.jpg", "/my-bucket"); the query string stays apart
--     options   s3ForcePathStyle, s3BucketEndpoint (a service config will do), or nil
--   address     {style = "virtual" | "path" | "bucket-endpoint", virtualHosted = bool,
--                host = "my-bucket.s3.amazonaws.com[:port]", hostname = "my-bucket.s3.amazonaws.com",
--                baseUrl = "https://" .. host .. the endpoint's path}
--   path        the request path below baseUrl: the URL is address.baseUrl .. path
--   The address is decided once per endpoint, options table and bucket, then shared (read it,
--   do not change it); the per-endpoint memory is bounded.
--
--   s3.dns_compatible_bucket(name) -> bool
--   s3.ADDRESS_CACHE_LIMIT   how many buckets one endpoint remembers (1000)
--
--   s3.check_key(key)        raises KeyTooLongError (S3's own code for it) when params.Key is
--                            over s3.MAX_KEY_BYTES (1024 bytes of UTF-8), before anything is sent
local make_error = require("awspromise.promise").make_error

-- A program that touches very many buckets on one endpoint decides again rather than grow.
local s3 = {ADDRESS_CACHE_LIMIT = 1000, MAX_KEY_BYTES = 1024}

local DEFAULT_PORT = {http = 80, https = 443}
local SLASH = ("/"):byte()

local function fail(message)
  error(make_error("ConfigError", message), 4) -- the caller of s3.address
end

function s3.dns_compatible_bucket(name)
  if type(name) ~= "string" or #name < 3 or #name > 63 then return false end
  if not name:match("^[a-z0-9][a-z0-9.-]*[a-z0-9]$") then return false end
  if name:find("..", 1, true) or name:find(".-", 1, true) or name:find("-.", 1, true) then return false end
  if name:find("%d+%.%d+%.%d+%.%d+") then return false end -- looks like an IP address
  return true
end

local function is_ip_host(host)
  return host:sub(1, 1) == "[" or host:match("^%d+%.%d+%.%d+%.%d+$") ~= nil
end

local function style_of(endpoint, bucket, options)
  if options.s3ForcePathStyle == true then return "path" end
  if options.s3BucketEndpoint == true then return "bucket-endpoint" end
  if not s3.dns_compatible_bucket(bucket) then return "path" end
  -- A dotted bucket under the *.s3 certificate's single-label wildcard fails TLS.
  if endpoint.protocol == "https" and bucket:find(".", 1, true) then return "path" end
  -- Virtual hosting needs a DNS parent: not an IP address, not a single-label host such as
  -- "localhost" or a container name, not an endpoint that carries a path.
  local hostname = endpoint.hostname
  if is_ip_host(hostname) or not hostname:find(".", 1, true) then return "path" end
  if endpoint.path ~= nil and endpoint.path ~= "" then return "path" end
  return "virtual"
end

-- The bucket as the REST binding writes it in the path (a URI label: unreserved characters kept).
local function bucket_segment(bucket)
  return "/" .. bucket:gsub("[^%w%-._~]", function(c) return ("%%%02X"):format(c:byte()) end)
end

-- Per endpoint: the options table the decisions hold for, how many there are, and one address
-- per bucket name. The two counters live under table keys, which no bucket name can be.
local decided = setmetatable({}, {__mode = "k"})
local OPTIONS, COUNT = {}, {}

local function decide(endpoint, bucket, path, options)
  if type(endpoint) ~= "table" or type(endpoint.protocol) ~= "string" or type(endpoint.hostname) ~= "string" then
    fail("s3.address: the endpoint must be an endpoints.resolve() or endpoints.parse_url() result, got "
      .. type(endpoint))
  end
  if type(bucket) ~= "string" or bucket == "" then
    fail("S3 bucket name must be a non-empty string, got " .. (type(bucket) == "string" and "''" or type(bucket)))
  end
  -- "." and ".." are dot segments a normalizing proxy or server resolves out of the bucket, and
  -- a "/" would move the rest of the name into the key.
  if bucket == "." or bucket == ".." or bucket:find("/", 1, true) then
    fail(("S3 bucket name %q is not a bucket name: it is '.' or '..' or contains '/'"):format(bucket))
  end
  if type(path) ~= "string" or path:byte(1) ~= SLASH then
    fail("s3.address: the request path must be a string that starts with '/', got "
      .. (type(path) == "string" and ("'" .. path .. "'") or type(path)))
  end
  if options ~= nil and type(options) ~= "table" then
    fail("s3.address: options must be a table or nil, got " .. type(options))
  end
  local style = style_of(endpoint, bucket, options or {})
  local hostname = style == "virtual" and (bucket .. "." .. endpoint.hostname) or endpoint.hostname
  local default_port = DEFAULT_PORT[endpoint.protocol]
  local port = endpoint.port or default_port
  local host = hostname .. (port ~= default_port and (":" .. port) or "")
  local address = {
    style = style, virtualHosted = style == "virtual", hostname = hostname, host = host,
    baseUrl = endpoint.protocol .. "://" .. host .. (endpoint.path or ""),
    bucketSegment = style ~= "path" and bucket_segment(bucket) or nil,
  }
  local known = decided[endpoint]
  if not known or known[OPTIONS] ~= options or known[COUNT] >= s3.ADDRESS_CACHE_LIMIT then
    known = {[OPTIONS] = options, [COUNT] = 0}
    decided[endpoint] = known
  end
  known[bucket] = address
  known[COUNT] = known[COUNT] + 1
  return address
end

-- `path` without its leading bucket segment: what the bucket's own host serves.
local function below_bucket(path, segment)
  if path:find(segment, 1, true) ~= 1 then return path end
  local after = path:byte(#segment + 1)
  if after == nil then return "/" end
  if after ~= SLASH then return path end -- "/my-bucketx/k" names another bucket
  return path:sub(#segment + 1)
end

function s3.check_key(key)
  if type(key) == "string" and #key > s3.MAX_KEY_BYTES then
    error(make_error("KeyTooLongError", ("S3 object key is %d bytes long; S3's limit is %d bytes of UTF-8")
      :format(#key, s3.MAX_KEY_BYTES)), 3)
  end
end

function s3.address(endpoint, bucket, path, options)
  local known = decided[endpoint]
  local address = known and known[OPTIONS] == options and known[bucket]
  if not address then address = decide(endpoint, bucket, path, options) end
  local segment = address.bucketSegment
  if not segment then return address, path end
  return address, below_bucket(path, segment)
end

return s3
