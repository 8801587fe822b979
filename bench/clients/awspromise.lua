-- awspromise benchmark client, through the public API only (bench/run starts it pinned to one
-- core, against bench/nginx on 127.0.0.1).
--
--   lua5.4 bench/clients/awspromise.lua <workload> <N> <port> [inflight=64]
--
-- workloads:
--   put-all      N S3 putObject calls (1 KiB body), Promise.all over batches of <inflight>
--   put-window   the same, a sliding window of <inflight> (each completion starts the next)
--   get-window   N S3 getObject calls of /bench/big (1 MiB, nginx serves a file), sliding window
--   ddb-put      N DynamoDB putItem calls (json protocol), sliding window
--   ddb-get      N DynamoDB getItem calls, sliding window
--   inflight     N putObject calls all started before the loop runs (N in flight at the API;
--                libcurl keeps <inflight> connections), then Promise.all(...):await()
--   cold         require "awspromise" + AWS.S3{...} construction, once (N ignored); CPU only
--
-- Prints one line: RESULT n= errors= cpu_ms= wall_ms= rss_kb= [bytes=]
-- cpu_ms is os.clock() (process CPU, user+sys) around the timed part only; rss_kb is VmHWM.
local workload, N, port, inflight = arg[1], tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4] or 64)
assert(workload and N and port, "usage: awspromise.lua <workload> <N> <port> [inflight]")

local function wall_ms()
  -- Lua has no sub-second wall clock; read it outside the CPU window.
  local p = io.popen("date +%s%N")
  local ns = tonumber(p:read("l"))
  p:close()
  return ns / 1e6
end

local function vmhwm_kb()
  local f = io.open("/proc/self/status")
  local kb = tonumber(f:read("a"):match("VmHWM:%s*(%d+)"))
  f:close()
  return kb
end

local function result(fields)
  fields.rss_kb = vmhwm_kb()
  local order = {"n", "errors", "cpu_ms", "wall_ms", "rss_kb", "bytes"}
  local out = {"RESULT"}
  for _, k in ipairs(order) do
    if fields[k] then out[#out + 1] = k .. "=" .. (math.type(fields[k]) == "float" and string.format("%.3f", fields[k]) or tostring(fields[k])) end
  end
  print(table.concat(out, " "))
end

local endpoint = "http://127.0.0.1:" .. port
local credentials = {accessKeyId = "AKID", secretAccessKey = "SECRET"}

if workload == "cold" then
  -- No wall clock here (io.popen would cost more than what it measures): bench/run times the
  -- whole process against a bare `lua5.4 -e ''`.
  local c0 = os.clock()
  local AWS = require "awspromise"
  local s3 = AWS.S3({endpoint = endpoint, s3ForcePathStyle = true, region = "us-east-1", credentials = credentials})
  local c1 = os.clock()
  assert(s3)
  result({n = 1, errors = 0, cpu_ms = (c1 - c0) * 1e3, wall_ms = 0})
  return
end

local AWS = require "awspromise"
local httpOptions = {maxSockets = inflight}
local s3 = AWS.S3({endpoint = endpoint, s3ForcePathStyle = true, region = "us-east-1",
  credentials = credentials, httpOptions = httpOptions})
local ddb = AWS.DynamoDB({endpoint = endpoint, region = "us-east-1", credentials = credentials,
  httpOptions = httpOptions})

local body = string.rep("x", 1024)
local bytes = 0
local errors = 0
local function failed(err)
  errors = errors + 1
  if errors <= 3 then io.stderr:write("awspromise client: ", tostring(err), "\n") end
end

local make
if workload == "put-all" or workload == "put-window" or workload == "inflight" then
  make = function(i) return s3:putObject({Bucket = "bench", Key = "k" .. i, Body = body}):promise() end
elseif workload == "get-window" then
  make = function()
    return s3:getObject({Bucket = "bench", Key = "big"}):promise():next(function(data)
      bytes = bytes + #data.Body
    end)
  end
elseif workload == "ddb-put" then
  make = function(i)
    return ddb:putItem({TableName = "bench", Item = {pk = {S = "k" .. i}, v = {S = body:sub(1, 32)}, n = {N = tostring(i)}}}):promise()
  end
elseif workload == "ddb-get" then
  make = function(i)
    return ddb:getItem({TableName = "bench", Key = {pk = {S = "k" .. i}}}):promise():next(function(data)
      assert(data.Item and data.Item.pk, "getItem: no Item in the reply")
    end)
  end
else
  error("unknown workload " .. tostring(workload))
end

-- One untimed request first: loads the model, opens a connection, settles caches.
do
  local ok, err = pcall(function() return make(0):await() end)
  if not ok then failed(err); os.exit(3) end
end
collectgarbage()

local function batches()
  local done = 0
  for base = 0, N - 1, inflight do
    local list = {}
    local k = math.min(inflight, N - base)
    for j = 1, k do list[j] = make(base + j) end
    local all = AWS.Promise.all(list)
    local ok, err = pcall(all.await, all)
    if not ok then failed(err) end
    done = done + k
  end
  return done
end

local function window()
  local started, done = 0, 0
  local launch
  local function settled()
    done = done + 1
    if started < N then launch() end
  end
  local function rejected(err)
    failed(err)
    settled()
  end
  launch = function()
    started = started + 1
    make(started):next(settled, rejected)
  end
  for _ = 1, math.min(inflight, N) do launch() end
  AWS.run()
  return done
end

local function all_at_once()
  local list = {}
  for i = 1, N do list[i] = make(i) end
  local ok, err = pcall(function() return AWS.Promise.all(list):await() end)
  if not ok then failed(err) end
  return N
end

local run = workload == "put-all" and batches or workload == "inflight" and all_at_once or window
local w0 = wall_ms()
local c0 = os.clock()
local done = run()
local c1 = os.clock()
local w1 = wall_ms()
result({n = done, errors = errors, cpu_ms = (c1 - c0) * 1e3, wall_ms = w1 - w0, bytes = bytes > 0 and bytes or nil})
