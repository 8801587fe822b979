-- Promise core benchmark (not a spec): create+resolve+chain throughput, and the memory held by
-- pending promises. Run: make && LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" lua5.4 bench/promise.lua
local AWS = require "awspromise"
local Promise = AWS.Promise

local N = tonumber(arg and arg[1]) or 1000000

local function kib() return collectgarbage("count") end

-- 1. N promises created, resolved and chained once each (one handler run per promise).
collectgarbage()
local t0 = os.clock()
local sum = 0
local function add(v) sum = sum + v end
for i = 1, N do
  Promise.resolve(i):next(add)
  if i % 10000 == 0 then AWS.loop.step(0) end
end
AWS.run()
local t1 = os.clock()
assert(sum == N * (N + 1) // 2, "lost handler runs")
print(string.format("create+resolve+chain %d promises: %.3f s CPU (%.3f us each)", N, t1 - t0, (t1 - t0) / N * 1e6))

-- 2. One chain N links long.
collectgarbage()
t0 = os.clock()
local p = Promise.resolve(0)
for _ = 1, N do p = p:next(function(v) return v + 1 end) end
local final
p:next(function(v) final = v end)
AWS.run()
t1 = os.clock()
assert(final == N)
print(string.format("a chain of %d links: %.3f s CPU (%.3f us each)", N, t1 - t0, (t1 - t0) / N * 1e6))

-- 3. Memory for 100,000 pending promises, each with one handler attached.
collectgarbage()
collectgarbage()
local before = kib()
local held = {}
local resolvers = {}
for i = 1, 100000 do
  held[i] = Promise.new(function(resolve) resolvers[i] = resolve end)
  held[i]:next(add)
end
collectgarbage()
local after = kib()
print(string.format("100000 pending promises made by Promise.new, each with a handler (so 200000 promises and the kept resolve closures): %.1f MB", (after - before) / 1024))
for i = 1, 100000 do resolvers[i](1) end
resolvers = nil
AWS.run()
held = nil
collectgarbage()
collectgarbage()
before = kib()
held = {}
local pending = require("awspromise.core").pending
for i = 1, 100000 do held[i] = pending() end
collectgarbage()
print(string.format("100000 bare pending promises: %.1f MB", (kib() - before) / 1024))
