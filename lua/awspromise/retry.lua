-- When to retry, and after how long (standard mode: exponential backoff with full jitter).
local core = require "awspromise.core"

local retry = {}

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

retry.THROTTLING = set {
  "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
  "TooManyRequestsException", "ProvisionedThroughputExceededException",
  "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
  "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
  "EC2ThrottledException",
}
-- Transient whatever the status (S3 answers RequestTimeout with 400).
retry.TRANSIENT = set {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}
-- Server faults that S3 may also report inside a 200 reply (CopyObject, CompleteMultipartUpload).
retry.SERVER_FAULT = set {"InternalError", "InternalFailure", "ServiceUnavailable"}
retry.EXPIRED_CREDENTIALS = set {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
retry.CLOCK_SKEW = set {
  "RequestTimeTooSkewed", "RequestExpired", "InvalidSignatureException", "SignatureDoesNotMatch",
  "AuthFailure", "RequestInTheFuture",
}

local SKEW_TOLERANCE = 300 -- seconds, as the SDKs use

-- The server's clock from its Date header, when ours is off by more than the tolerance.
local function server_offset(http)
  local date = http and http.headers and http.headers.date
  local server = date and core.parse_time(date)
  if not server then return nil end
  local offset = server - os.time()
  if math.abs(offset) < SKEW_TOLERANCE then return nil end
  return math.floor(offset + 0.5)
end

-- Milliseconds to wait before retry number n+1 (n retries done so far).
function retry.backoff(options, n, err)
  options = options or {}
  if options.customBackoff then
    local ms = options.customBackoff(n, err)
    -- like a negative delay, NaN means "do not retry" (and a timer could not take it)
    if type(ms) ~= "number" or ms ~= ms or ms < 0 then return nil end
    return ms
  end
  local base = options.base or 100
  local cap = options.cap or 20000
  local ceiling = math.min(cap, base * 2 ^ n)
  return math.random() * ceiling
end

-- Decides for a failed attempt: returns the delay in ms, or nil for "give up". Marks the error
-- retryable or not, and does what a retry needs first (refresh credentials, fix the clock).
function retry.decide(request, err, http)
  local service = request.service
  local config = service.config
  local code = err.code
  if code == "RequestAbortedError" then
    err.retryable = false
    return nil
  end
  local retryable = err.retryable
  local status = err.statusCode or 0
  local bucket_region = http and http.headers and http.headers["x-amz-bucket-region"]
  if bucket_region and err.region == nil then err.region = bucket_region end
  if retry.TRANSIENT[code] or (retry.SERVER_FAULT[code] and status == 200) then retryable = true end
  if retry.THROTTLING[code] or err.statusCode == 429 then
    err.throttling = true
    retryable = true
  end
  if retry.EXPIRED_CREDENTIALS[code] then
    service:invalidateCredentials()
    retryable = true
  end
  if config.correctClockSkew and retry.CLOCK_SKEW[code] then
    local offset = server_offset(http)
    if offset then
      config.systemClockOffset = offset * 1000 -- milliseconds, as in JavaScript
      retryable = true
    end
  end
  if retryable == nil then retryable = status >= 500 end
  err.retryable = retryable and true or false
  local max = service:maxRetries()
  -- a NaN set after construction (settings.lua checks only then) must still end the retries
  if not retryable or max ~= max or request.retryCount >= max then return nil end
  return retry.backoff(service:retryDelayOptions(), request.retryCount, err)
end

return retry
