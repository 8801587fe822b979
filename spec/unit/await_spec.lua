-- p:await() on the main thread and inside AWS.async, and AWS.async itself.
local AWS = require "awspromise"
local support = require "support.loop"
local Promise, delay = AWS.Promise, AWS.util.delay

describe("await on the main thread", function()
  it("drives the loop until the promise fulfils and returns its value", function()
    local ticks = 0
    delay(5):next(function() ticks = ticks + 1 end)
    assert.equal("v", delay(20, "v"):await())
    assert.equal(1, ticks)
  end)

  it("raises exactly the reason of a rejection", function()
    local reason = {code = "Nope"}
    local ok, err = pcall(function() return delay(1):next(function() error(reason) end):await() end)
    assert.is_false(ok)
    assert.equal(reason, err)
  end)

  it("returns at once for a settled promise", function()
    assert.equal(7, Promise.resolve(7):await())
  end)

  it("raises a clear error for a promise that can never settle", function()
    local never = Promise.new(function() end)
    local ok, err = pcall(never.await, never)
    assert.is_false(ok)
    assert.matches("can never settle", err)
  end)

  it("refuses to block inside a loop callback", function()
    local message
    Promise.resolve():next(function()
      local ok, err = pcall(function() return delay(1):await() end)
      message = not ok and err
    end)
    AWS.run()
    assert.matches("cannot block inside a loop callback", message)
  end)
end)

describe("AWS.async", function()
  it("passes arguments and fulfils with the function's result", function()
    assert.same({"fulfilled", 5}, {support.settle(AWS.async(function(a, b) return a + b end, 2, 3))})
  end)

  it("rejects with exactly what the function raises", function()
    local err = {}
    assert.same({"rejected", err}, {support.settle(AWS.async(function() error(err) end))})
  end)

  it("await inside suspends only that coroutine", function()
    local order = {}
    local p = AWS.async(function()
      order[#order + 1] = "start"
      local v = delay(20, "awaited"):await()
      order[#order + 1] = v
      return "done"
    end)
    order[#order + 1] = "main goes on"
    assert.equal("pending", p:state())
    assert.same({"fulfilled", "done"}, {support.settle(p)})
    assert.same({"start", "main goes on", "awaited"}, order)
  end)

  it("await inside raises a rejection's reason, which pcall can catch", function()
    local p = AWS.async(function()
      local ok, err = pcall(function() return Promise.reject("bad"):await() end)
      return ok, err
    end)
    local _, got = support.settle(p)
    assert.equal(false, got) -- only the first result fulfils
    local q = AWS.async(function()
      local ok, err = pcall(function() return Promise.reject("bad"):await() end)
      return {ok, err}
    end)
    local _, pair = support.settle(q)
    assert.same({false, "bad"}, pair)
  end)

  it("runs many coroutines concurrently", function()
    local list = {}
    for i = 1, 50 do
      list[i] = AWS.async(function() return delay(50 - i, i):await() * 2 end)
    end
    local started = os.clock()
    local _, values = support.settle(Promise.all(list))
    assert.equal(50, #values)
    for i = 1, 50 do assert.equal(2 * i, values[i]) end
    assert.is_true(os.clock() - started < 1)
  end)

  it("an async function may await another async function", function()
    local inner = function(x) return AWS.async(function() return delay(1, x):await() + 1 end) end
    local p = AWS.async(function() return inner(1):await() + inner(10):await() end)
    assert.same({"fulfilled", 13}, {support.settle(p)})
  end)

  it("a direct coroutine.yield inside is refused with a clear error", function()
    local state, err = support.settle(AWS.async(function() coroutine.yield("x") end))
    assert.equal("rejected", state)
    assert.matches("use p:await", tostring(err))
  end)

  it("refuses a non-callable", function()
    local ok, err = pcall(AWS.async, 3)
    assert.is_false(ok)
    assert.matches("AWS.async: expected a function", tostring(err))
  end)
end)
