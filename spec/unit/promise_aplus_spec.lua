-- Promises/A+ 1.1, clause by clause, with `next` in the role of `then`.
local AWS = require "awspromise"
local support = require "support.loop"
local Promise = AWS.Promise

local function deferred()
  local d = {}
  d.promise = Promise.new(function(resolve, reject) d.resolve, d.reject = resolve, reject end)
  return d
end

local function spy_handler()
  local calls = {}
  return setmetatable({calls = calls}, {__call = function(_, ...)
    calls[#calls + 1] = table.pack(...)
  end}), calls
end

describe("A+ 2.1 promise states", function()
  it("2.1.1 a pending promise may become fulfilled or rejected", function()
    local d1, d2 = deferred(), deferred()
    assert.equal("pending", d1.promise:state())
    d1.resolve(1)
    d2.reject(2)
    assert.same({"fulfilled", 1}, {d1.promise:state()})
    assert.same({"rejected", 2}, {d2.promise:state()})
    d2.promise:catch(function() end)
    AWS.run()
  end)

  it("2.1.2 a fulfilled promise keeps its state and value", function()
    local d = deferred()
    d.resolve("first")
    d.resolve("second")
    d.reject("third")
    assert.same({"fulfilled", "first"}, {d.promise:state()})
    assert.same({"fulfilled", "first"}, {support.settle(d.promise)})
  end)

  it("2.1.3 a rejected promise keeps its state and reason", function()
    local d = deferred()
    d.reject("first")
    d.resolve("second")
    d.reject("third")
    assert.same({"rejected", "first"}, {support.settle(d.promise)})
  end)

  it("nil is a value and a reason like any other", function()
    local d = deferred()
    d.resolve(nil)
    assert.same({"fulfilled", nil}, {support.settle(d.promise)})
    local r = deferred()
    r.reject(nil)
    local state = support.settle(r.promise)
    assert.equal("rejected", state)
  end)
end)

describe("A+ 2.2 the next method", function()
  it("2.2.1 both arguments are optional and non-callables are ignored", function()
    local fulfilled = Promise.resolve(5):next(nil, nil):next(42, "x")
    assert.same({"fulfilled", 5}, {support.settle(fulfilled)})
    local rejected = Promise.reject("r"):next({}, nil):next(false, 7)
    assert.same({"rejected", "r"}, {support.settle(rejected)})
  end)

  it("2.2.2 onFulfilled is called once, after fulfilment, with the value as its argument", function()
    local d = deferred()
    local handler, calls = spy_handler()
    d.promise:next(handler)
    AWS.run()
    assert.equal(0, #calls)
    d.resolve("v")
    d.resolve("w")
    AWS.run()
    assert.equal(1, #calls)
    assert.equal(1, calls[1].n)
    assert.equal("v", calls[1][1])
  end)

  it("2.2.3 onRejected is called once, after rejection, with the reason as its argument", function()
    local d = deferred()
    local handler, calls = spy_handler()
    d.promise:next(nil, handler)
    AWS.run()
    assert.equal(0, #calls)
    local reason = {why = "table reasons stay tables"}
    d.reject(reason)
    d.reject("again")
    AWS.run()
    assert.equal(1, #calls)
    assert.equal(reason, calls[1][1])
  end)

  it("2.2.4 handlers never run inside the call that registers them or settles the promise", function()
    local order = {}
    local already = Promise.resolve("x")
    already:next(function() order[#order + 1] = "handler" end)
    order[#order + 1] = "after next"
    local d = deferred()
    d.promise:next(function() order[#order + 1] = "late handler" end)
    d.resolve(1)
    order[#order + 1] = "after resolve"
    AWS.run()
    assert.same({"after next", "after resolve", "handler", "late handler"}, order)
  end)

  it("2.2.5 a handler is called as a plain function: the value is its only argument", function()
    local args
    Promise.resolve("only"):next(function(...) args = table.pack(...) end)
    AWS.run()
    assert.equal(1, args.n)
    assert.equal("only", args[1])
  end)

  it("2.2.6 next may be called many times; handlers run in registration order", function()
    local d = deferred()
    local order = {}
    for i = 1, 5 do d.promise:next(function(v) order[#order + 1] = i .. v end) end
    local r = deferred()
    for i = 1, 3 do r.promise:next(nil, function(e) order[#order + 1] = e .. i end) end
    d.resolve("f")
    r.reject("r")
    AWS.run()
    assert.same({"1f", "2f", "3f", "4f", "5f", "r1", "r2", "r3"}, order)
  end)

  it("2.2.6 handlers added after settling still run in order", function()
    local p = Promise.resolve(0)
    local order = {}
    p:next(function() order[#order + 1] = "a" end)
    p:next(function() order[#order + 1] = "b" end)
    AWS.run()
    p:next(function() order[#order + 1] = "c" end)
    AWS.run()
    assert.same({"a", "b", "c"}, order)
  end)

  describe("2.2.7 next returns a promise", function()
    it("2.2.7.1 a handler's return value resolves the derived promise", function()
      assert.same({"fulfilled", 11}, {support.settle(Promise.resolve(10):next(function(v) return v + 1 end))})
      assert.same({"fulfilled", "recovered"},
        {support.settle(Promise.reject("e"):next(nil, function() return "recovered" end))})
    end)

    it("2.2.7.2 a handler that raises rejects the derived promise with exactly the raised value", function()
      local err = {code = "Mine"}
      local state, reason = support.settle(Promise.resolve(1):next(function() error(err) end))
      assert.equal("rejected", state)
      assert.equal(err, reason)
      local _, plain = support.settle(Promise.reject(1):next(nil, function() error("text", 0) end))
      assert.equal("text", plain)
      local _, numeric = support.settle(Promise.resolve(1):next(function() error(404) end))
      assert.equal(404, numeric)
    end)

    it("2.2.7.3 without a callable onFulfilled the value passes through", function()
      assert.same({"fulfilled", "same"}, {support.settle(Promise.resolve("same"):next(nil, function() end))})
    end)

    it("2.2.7.4 without a callable onRejected the reason passes through", function()
      local reason = {}
      local state, got = support.settle(Promise.reject(reason):next(function() end))
      assert.equal("rejected", state)
      assert.equal(reason, got)
    end)
  end)

  it("a callable table (a spy) is a handler", function()
    local spy = setmetatable({}, {__call = function(_, v) return v * 2 end})
    assert.same({"fulfilled", 8}, {support.settle(Promise.resolve(4):next(spy))})
  end)
end)

describe("A+ 2.3 the resolution procedure", function()
  it("2.3.1 resolving a promise with itself rejects with a TypeError", function()
    local p
    p = Promise.resolve(1):next(function() return p end)
    local state, reason = support.settle(p)
    assert.equal("rejected", state)
    assert.equal("TypeError", reason.code)
    assert.matches("itself", tostring(reason))
  end)

  describe("2.3.2 a promise of ours is adopted", function()
    it("2.3.2.1 while it is pending, so is the adopter", function()
      local inner = deferred()
      local outer = Promise.resolve(0):next(function() return inner.promise end)
      AWS.run()
      assert.equal("pending", outer:state())
      inner.resolve("later")
      assert.same({"fulfilled", "later"}, {support.settle(outer)})
    end)

    it("2.3.2.2 when it fulfils, with its value", function()
      assert.same({"fulfilled", "v"}, {support.settle(Promise.new(function(res) res(Promise.resolve("v")) end))})
    end)

    it("2.3.2.3 when it rejects, with its reason", function()
      local state, reason = support.settle(Promise.new(function(res) res(Promise.reject("no")) end))
      assert.same({"rejected", "no"}, {state, reason})
    end)
  end)

  describe("2.3.3 thenables (tables and userdata with a callable next)", function()
    it("2.3.3.1-2 a next field that raises when read rejects with that error", function()
      local err = {boom = true}
      local evil = setmetatable({}, {__index = function(_, k) if k == "next" then error(err) end end})
      local state, reason = support.settle(Promise.resolve(evil))
      assert.equal("rejected", state)
      assert.equal(err, reason)
    end)

    it("2.3.3.3 next is called with the thenable as self and resolve, reject functions", function()
      local seen
      local thenable = {}
      function thenable.next(self, resolve, reject)
        seen = {self = self, resolve = type(resolve), reject = type(reject)}
        resolve("from thenable")
      end
      assert.same({"fulfilled", "from thenable"}, {support.settle(Promise.resolve(thenable))})
      assert.equal(thenable, seen.self)
      assert.equal("function", seen.resolve)
      assert.equal("function", seen.reject)
    end)

    it("2.3.3.3.1 resolve(y) runs the procedure again on y (thenables nest)", function()
      local inner = {next = function(_, resolve) resolve("deep") end}
      local outer = {next = function(_, resolve) resolve(inner) end}
      assert.same({"fulfilled", "deep"}, {support.settle(Promise.resolve(outer))})
    end)

    it("2.3.3.3.2 reject(r) rejects with r", function()
      local r = {}
      local state, reason = support.settle(Promise.resolve({next = function(_, _, reject) reject(r) end}))
      assert.equal("rejected", state)
      assert.equal(r, reason)
    end)

    it("2.3.3.3.3 the first call of resolve or reject wins; later calls are ignored", function()
      local t = {next = function(_, resolve, reject)
        resolve("first")
        reject("second")
        resolve("third")
      end}
      assert.same({"fulfilled", "first"}, {support.settle(Promise.resolve(t))})
      local t2 = {next = function(_, resolve, reject)
        reject("no")
        resolve("yes")
      end}
      assert.same({"rejected", "no"}, {support.settle(Promise.resolve(t2))})
    end)

    it("2.3.3.3.4 an error raised by next rejects unless resolve or reject was already called", function()
      local err = {}
      local state, reason = support.settle(Promise.resolve({next = function() error(err) end}))
      assert.equal("rejected", state)
      assert.equal(err, reason)
      local after = {next = function(_, resolve) resolve("kept"); error("ignored") end}
      assert.same({"fulfilled", "kept"}, {support.settle(Promise.resolve(after))})
    end)

    it("2.3.3.3 a thenable that never calls back leaves the promise pending", function()
      local p = Promise.resolve({next = function() end})
      AWS.run()
      assert.equal("pending", p:state())
    end)

    it("2.3.3.4 a table whose next is not callable is a plain value", function()
      local t = {next = 5}
      assert.same({"fulfilled", t}, {support.settle(Promise.resolve(t))})
    end)

    it("a userdata with a callable next is a thenable too", function()
      local file = io.tmpfile()
      -- file handles have no `next`: plain value
      assert.same({"fulfilled", file}, {support.settle(Promise.resolve(file))})
      file:close()
      local ud_thenable = Promise.resolve("from a promise userdata")
      local state, value = support.settle(Promise.new(function(res) res(ud_thenable) end))
      assert.same({"fulfilled", "from a promise userdata"}, {state, value})
    end)

    it("a foreign thenable's next runs later, not inside resolve", function()
      local called = false
      local t = {next = function(_, resolve) called = true; resolve(1) end}
      local p = Promise.resolve(t)
      assert.is_false(called)
      support.settle(p)
      assert.is_true(called)
    end)
  end)

  it("2.3.4 anything else fulfils as it is", function()
    for _, v in ipairs {0, "s", true, false, 1.5, print} do
      assert.same({"fulfilled", v}, {support.settle(Promise.resolve(v))})
    end
  end)
end)
