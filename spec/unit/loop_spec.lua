-- The loop: run, step, fd and timeout (a foreign loop drives the module through these alone),
-- timers, drain at exit, and unhandled-rejection reports.
local AWS = require "awspromise"
local support = require "support.loop"
local Promise, delay = AWS.Promise, AWS.util.delay

describe("AWS.run and AWS.loop.step", function()
  it("run returns once nothing is pending", function()
    local fired = {}
    delay(10, "a"):next(function(v) fired[#fired + 1] = v end)
    delay(1, "b"):next(function(v) fired[#fired + 1] = v end)
    AWS.run()
    assert.same({"b", "a"}, fired)
    assert.is_false(AWS.loop.alive())
  end)

  it("step(0) does one turn without waiting for a timer", function()
    local fired = false
    delay(30):next(function() fired = true end)
    local alive = AWS.loop.step(0)
    assert.is_true(alive)
    assert.is_false(fired)
    AWS.run()
    assert.is_true(fired)
  end)

  it("step(ms) waits at most ms", function()
    local fired = false
    delay(300):next(function() fired = true end)
    local t0 = os.time()
    AWS.loop.step(20)
    assert.is_false(fired)
    assert.is_true(os.time() - t0 <= 1)
    AWS.run()
    assert.is_true(fired)
  end)
end)

describe("AWS.util.delay", function()
  it("fulfils after the delay with the given value", function()
    local t0 = os.clock()
    local start = os.time()
    local order = {}
    for _, ms in ipairs {30, 10, 10, 0, 20} do
      delay(ms, ms):next(function(v) order[#order + 1] = v end)
    end
    AWS.run()
    assert.same({0, 10, 10, 20, 30}, order)
    assert.is_true(os.time() - start <= 1)
    assert.is_true(os.clock() - t0 < 0.5) -- waiting, not spinning
  end)

  it("refuses a negative or non-number delay", function()
    assert.has_error(function() delay(-1) end)
    assert.has_error(function() delay("soon") end)
  end)
end)

describe("AWS.loop.fd and AWS.loop.timeout", function()
  it("timeout is 0 with queued jobs, the next timer's ms with timers, nil when idle", function()
    AWS.run()
    assert.is_nil(AWS.loop.timeout())
    Promise.resolve(1):next(function() end)
    assert.equal(0, AWS.loop.timeout())
    AWS.loop.step(0)
    delay(500)
    local t = AWS.loop.timeout()
    assert.is_true(t > 400 and t <= 500, tostring(t))
    AWS.run()
  end)

  it("a foreign loop (luv) drives the module through fd, timeout and step alone", function()
    local ok, uv = pcall(require, "luv")
    if not ok then
      pending("lua-luv for Lua 5.4 is not installed (apt-get install lua-luv): " .. tostring(uv))
      return
    end
    local results = {}
    Promise.resolve("queued before the loop"):next(function(v) results[#results + 1] = v end)
    delay(30, "timer"):next(function(v) results[#results + 1] = v end)
    AWS.async(function()
      local v = delay(10, "awaited in async"):await()
      results[#results + 1] = v
    end)

    local poll = uv.new_poll(AWS.loop.fd())
    local timer = uv.new_timer()
    local steps = 0
    local function turn()
      steps = steps + 1
      AWS.loop.step(0)
      timer:stop()
      if not AWS.loop.alive() then
        poll:stop()
        return
      end
      local ms = AWS.loop.timeout()
      if ms then timer:start(ms, 0, turn) end
    end
    poll:start("r", turn)
    local ms = AWS.loop.timeout()
    if ms then timer:start(ms, 0, turn) end
    uv.run()
    poll:close()
    timer:close()
    uv.run()
    assert.same({"queued before the loop", "awaited in async", "timer"}, results)
    assert.is_true(steps >= 2)
    assert.is_true(steps < 100, "the foreign loop spun: " .. steps .. " steps")
  end)

  it("a plain loop of step(timeout) drives the module", function()
    local done = false
    delay(15):next(function() done = true end)
    local turns = 0
    while AWS.loop.alive() do
      AWS.loop.step(AWS.loop.timeout() or 0)
      turns = turns + 1
    end
    assert.is_true(done)
    assert.is_true(turns < 20)
  end)
end)

describe("drain at exit", function()
  it("runs every handler before the interpreter exits, without AWS.run()", function()
    local out, err, ok = support.run_script([[
      local AWS = require "awspromise"
      AWS.util.delay(30, "timer fired"):next(print)
      AWS.Promise.resolve(1):next(function() print("handler ran") end)
      AWS.async(function() print("async", AWS.util.delay(10, "resumed"):await()) end)
      print("end of script")
    ]])
    assert.equal("", err)
    assert.truthy(ok)
    assert.equal("end of script\nhandler ran\nasync\tresumed\ntimer fired\n", out)
  end)

  it("also when the script ends with an error", function()
    local out, err = support.run_script([[
      local AWS = require "awspromise"
      AWS.util.delay(5, "still ran"):next(print)
      error("script failed")
    ]])
    assert.equal("still ran\n", out)
    assert.matches("script failed", err)
  end)
end)

describe("unhandled rejections", function()
  it("are reported once on stderr with the reason", function()
    local out, err = support.run_script([[
      local AWS = require "awspromise"
      AWS.Promise.reject("nobody handles me")
      AWS.Promise.reject("handled"):catch(function() end)
      AWS.util.delay(5):next(function() error("raised in a handler", 0) end)
      AWS.run()
      AWS.run()
      print("done")
    ]])
    assert.equal("done\n", out)
    local _, count = err:gsub("unhandled rejection", "")
    assert.equal(2, count, err)
    assert.matches("nobody handles me", err)
    assert.matches("raised in a handler", err)
    assert.not_matches("handled\n", err)
  end)

  it("go to AWS.config.onUnhandledRejection when set", function()
    local seen = {}
    AWS.config.onUnhandledRejection = function(reason, p) seen[#seen + 1] = {reason, p} end
    local reason = {code = "X"}
    local p = Promise.reject(reason)
    Promise.reject("caught"):catch(function() end)
    AWS.run()
    AWS.run()
    AWS.config.onUnhandledRejection = nil
    assert.equal(1, #seen)
    assert.equal(reason, seen[1][1])
    assert.equal(p, seen[1][2])
  end)

  it("are not reported when a handler is attached before the loop turns", function()
    local seen = 0
    AWS.config.onUnhandledRejection = function() seen = seen + 1 end
    local p = Promise.reject("late but in time")
    p:catch(function() end)
    AWS.run()
    AWS.config.onUnhandledRejection = nil
    assert.equal(0, seen)
  end)
end)
