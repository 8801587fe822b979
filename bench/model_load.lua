-- Benchmark of loading the EC2 service model (the largest shipped model, ~0.9 MB of JSON):
-- reading the file and core.model_load (cJSON parse plus the shape and operation indexes).
-- The goal is <= 30 ms per load. CPU time via os.clock; each load is kept until the state
-- closes (models live as long as the state), so the run stays short.
--   lua5.4 bench/model_load.lua [iterations]     (default 20)
-- Without LUA_PATH / LUA_CPATH it uses this checkout's lua/ and build/.
local root = (debug.getinfo(1, "S").source:gsub("^@", ""):match("^(.*)/bench/[^/]*$")) or "."
if not os.getenv("LUA_PATH") then package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path end
if not os.getenv("LUA_CPATH") then package.cpath = root .. "/build/?.so;" .. package.cpath end

local models = require("awspromise.models")
local core = require("awspromise.core")
local N = tonumber(arg and arg[1]) or 20

local version = models.pick("ec2", "2014-10-01")
local function ms(t) return t * 1000 end

local function median(list)
  table.sort(list)
  local n = #list
  if n % 2 == 1 then return list[(n + 1) // 2] end
  return (list[n // 2] + list[n // 2 + 1]) / 2
end

-- First load in this process: metadata lookup, file read and parse, as a client's first use.
local t0 = os.clock()
local text = models.read("ec2", version)
local t1 = os.clock()
local model = core.model_load(text)
local t2 = os.clock()
assert(model:operation("DescribeInstances"), "the EC2 model has DescribeInstances")

local reads, loads = {}, {}
for i = 1, N do
  local a = os.clock()
  local s = models.read("ec2", version)
  local b = os.clock()
  core.model_load(s)
  local c = os.clock()
  reads[i], loads[i] = ms(b - a), ms(c - b)
end
local best = math.huge
for _, v in ipairs(loads) do best = math.min(best, v) end
local med = median(loads)

print(("model_load bench: EC2 %s (%d bytes, picked for apiVersion '2014-10-01')"):format(version, #text))
print(("  first use        read %6.2f ms   core.model_load %6.2f ms"):format(ms(t1 - t0), ms(t2 - t1)))
print(("  %3d more loads   read %6.2f ms   core.model_load %6.2f ms median, %6.2f ms best")
  :format(N, median(reads), med, best))
print(("  goal <= 30 ms per load: %s"):format(med <= 30 and "met" or "NOT met"))
