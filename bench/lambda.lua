-- The Lambda runtime's per-invocation overhead (a note, not a spec): the same N invocations served
-- against tools/lambda-runtime-api.py three ways, in this process, one after the other:
--   raw      GET /invocation/next and POST .../response with core.http, nothing else: what the
--            fixture and HTTP cost by themselves (the floor)
--   runtime  awspromise.lambda's runtime:run(N) with an echo handler (decode the event, build the
--            context, call the handler, encode the result, post it)
--   callback the same with a handler in the seed's form, answering through callback(nil, event)
-- The difference runtime - raw is the runtime's own cost per invocation. Wall and CPU (os.clock,
-- this process only: the fixture's Python runs elsewhere).
-- Run: make && LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" lua5.4 bench/lambda.lua [N]
local core = require "awspromise.core"
local lambda = require "awspromise.lambda"

local N = tonumber(arg and arg[1]) or 1000
local EVENT = core.json_encode({table = "example-table", keys = {"1", "2", "3"}, nested = {a = {b = {c = true}}}})

local root = (debug.getinfo(1, "S").source:match("^@(.*)/bench/[^/]*$")) or "."
local fixture = dofile(root .. "/tools/lambda_fixture.lua").start(root)
local api = fixture.api

local function check_last(ids)
  local outcome = fixture.result(ids[#ids], 5000)
  assert(outcome and outcome.kind == "response", "the last invocation was not answered")
end

local function raw(n)
  for _ = 1, n do
    local nxt = fixture.call("GET", "/2018-06-01/runtime/invocation/next")
    fixture.call("POST", "/2018-06-01/runtime/invocation/" .. nxt.headers["lambda-runtime-aws-request-id"] .. "/response", nxt.body)
  end
end

local handlers = {
  runtime = function(event) return event end,
  callback = function(event, _, callback) callback(nil, event) end,
}

local function served_by(name)
  return function(n)
    local served, err = lambda.runtime {api = api, handler = handlers[name]}:run(n)
    assert(served == n, err)
  end
end

local function measure(name, fn)
  local ids = fixture.invoke(EVENT, N, 60000)
  collectgarbage()
  local wall0, cpu0 = core.now(), os.clock()
  fn(N)
  local wall, cpu = core.now() - wall0, (os.clock() - cpu0) * 1000
  check_last(ids)
  print(("%-9s %6d invocations: %7.1f ms wall (%6.1f us each), %7.1f ms CPU (%6.1f us each)"):format(
    name, N, wall, wall / N * 1000, cpu, cpu / N * 1000))
  return wall / N * 1000, cpu / N * 1000
end

measure("warm-up", raw) -- connections, the fixture's threads, the JSON code paths
local raw_wall, raw_cpu = measure("raw", raw)
local rt_wall, rt_cpu = measure("runtime", served_by("runtime"))
local cb_wall, cb_cpu = measure("callback", served_by("callback"))
print(("runtime overhead per invocation: %.1f us wall, %.1f us CPU (callback form: %.1f us wall, %.1f us CPU)"):format(
  rt_wall - raw_wall, rt_cpu - raw_cpu, cb_wall - raw_wall, cb_cpu - raw_cpu))

fixture.stop()
