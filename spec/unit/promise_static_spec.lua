-- AWS.Promise.new/resolve/reject/all/allSettled/race/any, finally, and the module-level exports.
local AWS = require "awspromise"
local support = require "support.loop"
local Promise = AWS.Promise
local delay = AWS.util.delay

describe("Promise.new", function()
  it("passes resolve and reject to the executor, which runs at once", function()
    local ran = false
    local p = Promise.new(function(resolve) ran = true; resolve("ok") end)
    assert.is_true(ran)
    assert.same({"fulfilled", "ok"}, {support.settle(p)})
  end)

  it("rejects with the executor's error", function()
    local err = {}
    local state, reason = support.settle(Promise.new(function() error(err) end))
    assert.equal("rejected", state)
    assert.equal(err, reason)
  end)

  it("ignores an executor error raised after resolve", function()
    local p = Promise.new(function(resolve) resolve(1); error("late") end)
    assert.same({"fulfilled", 1}, {support.settle(p)})
  end)

  it("refuses a non-callable executor with a clear error", function()
    assert.has_error(function() Promise.new(42) end)
    local ok, msg = pcall(Promise.new, 42)
    assert.is_false(ok)
    assert.matches("executor must be callable", msg)
  end)

  it("AWS.Promise(executor) is Promise.new", function()
    assert.same({"fulfilled", 3}, {support.settle(AWS.Promise(function(r) r(3) end))})
  end)
end)

describe("Promise.resolve and Promise.reject", function()
  it("resolve returns one of our promises unchanged", function()
    local p = Promise.resolve(1)
    assert.equal(p, Promise.resolve(p))
  end)

  it("resolve adopts a foreign thenable", function()
    local t = {next = function(_, res) res("adopted") end}
    local p = Promise.resolve(t)
    assert.is_true(Promise.is(p))
    assert.same({"fulfilled", "adopted"}, {support.settle(p)})
  end)

  it("reject does not adopt: a promise reason stays the reason", function()
    local inner = Promise.resolve(1)
    local state, reason = support.settle(Promise.reject(inner))
    assert.equal("rejected", state)
    assert.equal(inner, reason)
  end)
end)

describe("Promise.all", function()
  it("fulfils with the values in input order, whatever order they settle in", function()
    local p = Promise.all({delay(30, "slow"), delay(1, "fast"), "plain", Promise.resolve("ready")})
    local state, values = support.settle(p)
    assert.equal("fulfilled", state)
    assert.same({"slow", "fast", "plain", "ready", n = 4}, values)
  end)

  it("rejects with the first rejection", function()
    local p = Promise.all({delay(50, 1), delay(5):next(function() error("second fails", 0) end), Promise.reject("first")})
    assert.same({"rejected", "first"}, {support.settle(p)})
  end)

  it("fulfils at once for an empty list", function()
    assert.same({"fulfilled", {n = 0}}, {support.settle(Promise.all({}))})
  end)

  it("honours list.n so that nil holes count as values", function()
    local _, values = support.settle(Promise.all({n = 3, 1, nil, delay(1, 3)}))
    assert.equal(3, values.n)
    assert.equal(1, values[1])
    assert.is_nil(values[2])
    assert.equal(3, values[3])
  end)

  it("refuses a non-table with a clear error", function()
    local ok, err = pcall(Promise.all, "nope")
    assert.is_false(ok)
    assert.equal("TypeError", err.code)
    assert.matches("Promise.all: expected a list", tostring(err))
  end)
end)

describe("Promise.allSettled", function()
  it("reports every outcome in input order", function()
    local _, outcomes = support.settle(Promise.allSettled({delay(5, "a"), Promise.reject("b"), "c"}))
    assert.same({
      {status = "fulfilled", value = "a"},
      {status = "rejected", reason = "b"},
      {status = "fulfilled", value = "c"},
      n = 3,
    }, outcomes)
  end)

  it("fulfils at once for an empty list", function()
    assert.same({"fulfilled", {n = 0}}, {support.settle(Promise.allSettled({}))})
  end)
end)

describe("Promise.race", function()
  it("settles like the first entry to settle", function()
    assert.same({"fulfilled", "quick"}, {support.settle(Promise.race({delay(40, "slow"), delay(1, "quick")}))})
    local failing = delay(1):next(function() error("fast failure", 0) end)
    assert.same({"rejected", "fast failure"}, {support.settle(Promise.race({delay(40, "slow"), failing}))})
  end)

  it("a plain value wins over pending promises", function()
    assert.same({"fulfilled", "now"}, {support.settle(Promise.race({delay(20, "later"), "now"}))})
  end)

  it("stays pending for an empty list", function()
    local p = Promise.race({})
    AWS.run()
    assert.equal("pending", p:state())
  end)
end)

describe("Promise.any", function()
  it("fulfils with the first fulfilment, ignoring rejections", function()
    local p = Promise.any({Promise.reject("x"), delay(10, "winner"), delay(30, "slower")})
    assert.same({"fulfilled", "winner"}, {support.settle(p)})
  end)

  it("rejects with an AggregateError listing every reason in input order", function()
    local p = Promise.any({delay(10):next(function() error("late", 0) end), Promise.reject("early")})
    local state, err = support.settle(p)
    assert.equal("rejected", state)
    assert.equal("AggregateError", err.code)
    assert.same({"late", "early", n = 2}, err.errors)
  end)

  it("rejects an empty list with an AggregateError", function()
    local state, err = support.settle(Promise.any({}))
    assert.equal("rejected", state)
    assert.equal("AggregateError", err.code)
    assert.equal(0, err.errors.n)
  end)
end)

describe("finally", function()
  it("passes a value through and calls fn with no argument", function()
    local args
    local p = Promise.resolve("v"):finally(function(...) args = table.pack(...) end)
    assert.same({"fulfilled", "v"}, {support.settle(p)})
    assert.equal(0, args.n)
  end)

  it("passes a reason through", function()
    local called = false
    local p = Promise.reject("r"):finally(function() called = true; return "ignored" end)
    assert.same({"rejected", "r"}, {support.settle(p)})
    assert.is_true(called)
  end)

  it("waits for a promise that fn returns", function()
    local order = {}
    local p = Promise.resolve("v"):finally(function()
      return delay(20):next(function() order[#order + 1] = "cleanup done" end)
    end):next(function(v) order[#order + 1] = "then " .. v end)
    support.settle(p)
    assert.same({"cleanup done", "then v"}, order)
  end)

  it("an error in fn replaces the outcome", function()
    local err = {}
    local state, reason = support.settle(Promise.resolve("v"):finally(function() error(err) end))
    assert.same({"rejected", err}, {state, reason})
    local _, r2 = support.settle(Promise.reject("old"):finally(function() return Promise.reject("new") end))
    assert.equal("new", r2)
  end)
end)

describe("the module table", function()
  it("exports the same static functions", function()
    for _, name in ipairs {"new", "resolve", "reject", "all", "allSettled", "race", "any"} do
      assert.equal(Promise[name], AWS[name], name)
    end
    assert.same({"fulfilled", {1, 2, n = 2}}, {support.settle(require("awspromise").all({1, 2}))})
  end)
end)
