-- csrc/core as a layer: its failures are awspromise.Error values raised through one helper,
-- unhandled rejections are reported by promise.c's idle hook at the end of each turn, and
-- core.wait / core.delay (which moved from the loop to promise.c) keep their behaviour.
local AWS = require "awspromise"
local core = require "awspromise.core"
local support = require "support.loop"
local Promise, delay = AWS.Promise, AWS.util.delay

-- The error `fn` raises, which must be an awspromise.Error with `code`.
local function core_error(code, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected a raise")
  assert.equal("table", type(err), "not an awspromise.Error: " .. tostring(err))
  assert.equal(core.error_metatable, getmetatable(err))
  assert.equal(code, err.code, tostring(err.message))
  assert.equal("string", type(err.message))
  assert.equal(code .. ": " .. err.message, tostring(err))
  return err
end

-- Collects what reaches AWS.config.onUnhandledRejection while `body` runs.
local function unhandled_during(body)
  local seen = {}
  AWS.config.onUnhandledRejection = function(reason) seen[#seen + 1] = reason end
  local ok, err = pcall(body)
  AWS.run()
  AWS.config.onUnhandledRejection = nil
  assert(ok, err)
  return seen
end

describe("core failures are awspromise.Error", function()
  it("a bad delay is a TypeError naming the argument", function()
    local err = core_error("TypeError", delay, -1)
    assert.matches("delay: milliseconds must be a number >= 0, got number", err.message)
    err = core_error("TypeError", delay, "soon")
    assert.matches("got string", err.message)
    core_error("TypeError", delay, 0 / 0)
  end)

  it("delay still takes a numeric string, as luaL_checknumber did", function()
    assert.same({"fulfilled", "v"}, {support.settle(delay("5", "v"))})
  end)

  it("core.timer refuses a bad delay or a non-function with TypeError", function()
    core_error("TypeError", core.timer, -5, function() end)
    local err = core_error("TypeError", core.timer, 5, "not a function")
    assert.matches("timer: expected a function, got string", err.message)
  end)

  it("Promise.new with a non-callable executor is a TypeError", function()
    local err = core_error("TypeError", Promise.new, 42)
    assert.matches("executor must be callable, got number", err.message)
  end)

  it("a promise method called on something else is a TypeError naming the method", function()
    local p = Promise.resolve(1)
    local err = core_error("TypeError", p.next, {}, function() end)
    assert.matches("^next: expected an awspromise promise, got table", err.message)
    err = core_error("TypeError", p.catch, 7)
    assert.matches("^catch: ", err.message)
    err = core_error("TypeError", p.state, nil)
    assert.matches("^state: .* got nil", err.message)
  end)

  it("core.wait on a non-promise is a TypeError", function()
    local err = core_error("TypeError", core.wait, "x")
    assert.matches("^await: expected an awspromise promise, got string", err.message)
  end)

  it("await that can never settle is a LoopError", function()
    local never = Promise.new(function() end)
    local err = core_error("LoopError", never.await, never)
    assert.matches("can never settle", err.message)
  end)

  it("await and AWS.run inside a loop callback are LoopErrors, caught by the callback", function()
    local await_err, run_err
    Promise.resolve():next(function()
      await_err = select(2, pcall(function() return delay(1):await() end))
      run_err = select(2, pcall(AWS.run))
    end)
    AWS.run()
    assert.equal("LoopError", await_err.code)
    assert.matches("cannot block inside a loop callback", await_err.message)
    assert.equal("LoopError", run_err.code)
    assert.matches("already running", run_err.message)
  end)

  it("spawn's bad arguments are TypeErrors", function()
    for _, args in ipairs {{42}, {{}}, {{"echo", 1}}, {"a\0b"}, {"true", {timeout = -1}},
                           {"true", {maxBuffer = 0}}, {"true", "opts"}} do
      core_error("TypeError", core.spawn, table.unpack(args))
    end
  end)
end)

describe("unhandled rejections after the move to promise.c", function()
  it("are reported at the end of the very turn that rejected them", function()
    local seen = {}
    AWS.config.onUnhandledRejection = function(reason) seen[#seen + 1] = reason end
    Promise.reject("first turn")
    AWS.loop.step(0)
    local after_one_step = #seen
    AWS.run()
    AWS.config.onUnhandledRejection = nil
    assert.equal(1, after_one_step)
    assert.same({"first turn"}, seen)
  end)

  it("a handler attached by a reaction in the same turn counts as handling", function()
    local seen = unhandled_during(function()
      local p = Promise.reject("late")
      Promise.resolve():next(function() p:catch(function() end) end)
    end)
    assert.same({}, seen)
  end)

  it("a rejection raised inside a timer callback's reaction is reported", function()
    local seen = unhandled_during(function()
      delay(2):next(function() error("from a timer", 0) end)
    end)
    assert.same({"from a timer"}, seen)
  end)

  it("a rejection made by the reporter itself is reported on a later turn, not lost", function()
    local seen = {}
    AWS.config.onUnhandledRejection = function(reason)
      seen[#seen + 1] = reason
      if reason == "outer" then Promise.reject("made while reporting") end
    end
    Promise.reject("outer")
    AWS.run()
    AWS.loop.step(0)
    AWS.config.onUnhandledRejection = nil
    assert.same({"outer", "made while reporting"}, seen)
  end)

  it("core.wait on a rejected promise counts as handling it", function()
    local seen = unhandled_during(function()
      local p = Promise.reject("awaited")
      local ok, reason = pcall(core.wait, p)
      assert.is_false(ok)
      assert.equal("awaited", reason)
    end)
    assert.same({}, seen)
  end)

  it("each rejection is reported once however many turns follow", function()
    local seen = unhandled_during(function()
      for i = 1, 3 do Promise.reject(i) end
    end)
    AWS.loop.step(0)
    AWS.run()
    assert.same({1, 2, 3}, seen)
  end)
end)

describe("core.wait and core.delay from promise.c", function()
  it("delay fulfils with its value, or nil, in due order", function()
    local order = {}
    delay(8, "later"):next(function(v) order[#order + 1] = v end)
    delay(0):next(function(v) order[#order + 1] = v == nil and "nil" or v end)
    delay(3, false):next(function(v) order[#order + 1] = v end)
    AWS.run()
    assert.same({"nil", false, "later"}, order)
  end)

  it("wait returns the value of a pending promise once the loop settles it", function()
    local p = delay(5, {"table value"})
    assert.same({"table value"}, core.wait(p))
    assert.equal("fulfilled", (p:state()))
  end)

  it("wait raises exactly the rejection reason, whatever its type", function()
    for _, reason in ipairs {"text", 42, {code = "X"}, false} do
      local p = delay(1):next(function() error(reason, 0) end)
      local ok, got = pcall(core.wait, p)
      assert.is_false(ok)
      assert.equal(reason, got)
    end
  end)

  it("wait on the main thread drives timers and reactions queued by other code", function()
    local ticks = {}
    for i = 1, 5 do delay(i, i):next(function(v) ticks[#ticks + 1] = v end) end
    assert.equal("done", core.wait(delay(10, "done")))
    assert.same({1, 2, 3, 4, 5}, ticks)
  end)

  it("a core.timer callback that raises goes to onUncaughtError with what it was", function()
    local seen = {}
    AWS.config.onUncaughtError = function(err, what) seen[#seen + 1] = {err, what} end
    core.timer(1, function() error("timer raised", 0) end)
    AWS.run()
    AWS.config.onUncaughtError = nil
    assert.equal(1, #seen)
    assert.equal("timer raised", seen[1][1])
    assert.equal("timer callback", seen[1][2])
  end)
end)

describe("drain at exit", function()
  it("runs the idle hook too: an unhandled rejection is reported once while the state closes", function()
    local _, err = support.run_script('require("awspromise").Promise.reject("left at exit")')
    local _, count = err:gsub("unhandled rejection: left at exit", "")
    assert.equal(1, count, err)
  end)
end)

describe("core.setenv", function()
  it("sets and unsets what os.getenv and children see", function()
    core.setenv("AWSPROMISE_SPEC_VAR", "one two")
    assert.equal("one two", os.getenv("AWSPROMISE_SPEC_VAR"))
    local p = io.popen("printenv AWSPROMISE_SPEC_VAR")
    assert.equal("one two", p:read("l"))
    p:close()
    core.setenv("AWSPROMISE_SPEC_VAR", nil)
    assert.is_nil(os.getenv("AWSPROMISE_SPEC_VAR"))
  end)

  it("refuses names it cannot set and values with NUL", function()
    core_error("TypeError", core.setenv, "A=B", "x")
    core_error("TypeError", core.setenv, "", "x")
    core_error("TypeError", core.setenv, "AWSPROMISE_SPEC_VAR", "a\0b")
    assert.is_nil(os.getenv("AWSPROMISE_SPEC_VAR"))
  end)
end)

describe("core.now", function()
  it("gives the monotonic milliseconds and the wall clock's milliseconds since the epoch", function()
    local mono1, wall1 = core.now()
    local mono2, wall2 = core.now()
    assert.is_true(mono2 >= mono1)
    assert.is_true(math.abs(wall1 / 1000 - os.time()) < 2, tostring(wall1))
    assert.is_true(wall2 >= wall1 - 1)
  end)
end)
