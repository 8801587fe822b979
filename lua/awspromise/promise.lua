-- The Lua half of the promise API: the combinators, finally, await and async.
-- The promise type itself (states, next, catch, the resolution procedure) is C (csrc/promise.c).
local core = require "awspromise.core"

local new, resolve, reject = core.new, core.resolve, core.reject
local methods = core.promise_methods
local error_mt = core.error_metatable

local Promise = {new = new, resolve = resolve, reject = reject, is = core.is_promise}

local function callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return type(mt) == "table" and mt.__call ~= nil
end

local function make_error(code, message, fields)
  local err = fields or {}
  err.code, err.message = code, message
  return setmetatable(err, error_mt)
end

-- The entries of a list: `list.n` when given (so that nil holes count), else `#list`.
local function entries(list, fname)
  if type(list) ~= "table" then
    error(make_error("TypeError", fname .. ": expected a list (a table), got " .. type(list)), 2)
  end
  local n = list.n
  if n == nil then return #list end
  if math.type(n) ~= "integer" or n < 0 then
    error(make_error("TypeError", fname .. ": list.n must be a non-negative integer"), 2)
  end
  return n
end

function Promise.all(list)
  local n = entries(list, "Promise.all")
  return new(function(fulfill, fail)
    local values, remaining = {n = n}, n
    if n == 0 then return fulfill(values) end
    for i = 1, n do
      resolve(list[i]):next(function(v)
        values[i] = v
        remaining = remaining - 1
        if remaining == 0 then fulfill(values) end
      end, fail)
    end
  end)
end

function Promise.allSettled(list)
  local n = entries(list, "Promise.allSettled")
  return new(function(fulfill)
    local outcomes, remaining = {n = n}, n
    if n == 0 then return fulfill(outcomes) end
    local function record(i, outcome)
      outcomes[i] = outcome
      remaining = remaining - 1
      if remaining == 0 then fulfill(outcomes) end
    end
    for i = 1, n do
      resolve(list[i]):next(
        function(v) record(i, {status = "fulfilled", value = v}) end,
        function(r) record(i, {status = "rejected", reason = r}) end)
    end
  end)
end

function Promise.race(list)
  local n = entries(list, "Promise.race")
  return new(function(fulfill, fail)
    for i = 1, n do resolve(list[i]):next(fulfill, fail) end
  end)
end

function Promise.any(list)
  local n = entries(list, "Promise.any")
  return new(function(fulfill, fail)
    local reasons, remaining = {n = n}, n
    local function all_failed()
      fail(make_error("AggregateError", "all promises were rejected", {errors = reasons}))
    end
    if n == 0 then return all_failed() end
    for i = 1, n do
      resolve(list[i]):next(fulfill, function(r)
        reasons[i] = r
        remaining = remaining - 1
        if remaining == 0 then all_failed() end
      end)
    end
  end)
end

-- finally(fn): fn() sees no argument; the outcome passes through unless fn raises or returns a
-- promise that rejects; a promise fn returns is waited for.
function methods.finally(p, fn)
  if not callable(fn) then return p:next(fn, fn) end
  return p:next(
    function(value) return resolve(fn()):next(function() return value end) end,
    function(reason) return resolve(fn()):next(function() error(reason, 0) end) end)
end

-- Coroutines run by AWS.async, whose await suspends instead of driving the loop.
local async_threads = setmetatable({}, {__mode = "k"})
local AWAIT = {}

function methods.await(p)
  if async_threads[coroutine.running()] then
    local ok, value = coroutine.yield(AWAIT, p)
    if ok then return value end
    error(value, 0)
  end
  return core.wait(p)
end

function Promise.async(fn, ...)
  if not callable(fn) then
    error(make_error("TypeError", "AWS.async: expected a function, got " .. type(fn)), 2)
  end
  local co = coroutine.create(function(...) return fn(...) end)
  async_threads[co] = true
  local args = table.pack(...)
  return new(function(fulfill, fail)
    local function continue(...)
      local ok, first, awaited = coroutine.resume(co, ...)
      if not ok then
        async_threads[co] = nil
        return fail(first)
      end
      if coroutine.status(co) == "dead" then
        async_threads[co] = nil
        return fulfill(first)
      end
      if first ~= AWAIT then
        async_threads[co] = nil
        return fail(make_error("TypeError",
          "AWS.async: the function yielded directly; use p:await() to wait inside AWS.async"))
      end
      awaited:next(function(v) continue(true, v) end, function(r) continue(false, r) end)
    end
    continue(table.unpack(args, 1, args.n))
  end)
end

Promise.make_error = make_error
Promise.callable = callable

return Promise
