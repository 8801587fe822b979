-- AWS.config: update, and setPromisesDependency / getPromisesDependency.
local AWS = require "awspromise"
local Mini = require "support.mini_promise"

describe("AWS.config:update", function()
  it("merges keys and nested option tables", function()
    local before = AWS.config.httpOptions.timeout
    AWS.config:update({region = "eu-west-1", httpOptions = {connectTimeout = 1500}})
    assert.equal("eu-west-1", AWS.config.region)
    assert.equal(1500, AWS.config.httpOptions.connectTimeout)
    assert.equal(before, AWS.config.httpOptions.timeout)
    AWS.config:update({region = false})
    AWS.config.region = nil
    AWS.config.httpOptions.connectTimeout = nil
  end)

  it("refuses a non-table with a clear error", function()
    local ok, err = pcall(AWS.config.update, AWS.config, "x")
    assert.is_false(ok)
    assert.matches("expects a table", tostring(err))
  end)
end)

describe("setPromisesDependency", function()
  after_each(function() AWS.config.setPromisesDependency(nil) end)

  it("with a library table, user-facing promises are that library's", function()
    AWS.config.setPromisesDependency(Mini)
    assert.equal(Mini, AWS.config.getPromisesDependency())
    local made = Mini.made
    local p = AWS.config.makePromise(function(resolve) resolve("mini value") end)
    assert.equal(Mini, getmetatable(p))
    assert.equal(made + 1, Mini.made)
    assert.equal("mini value", p.value)
  end)

  it("accepts the colon call too, and nil restores our own promises", function()
    AWS.config:setPromisesDependency(Mini)
    assert.equal(Mini, AWS.config.getPromisesDependency())
    AWS.config:setPromisesDependency(nil)
    assert.is_nil(AWS.config.getPromisesDependency())
    local p = AWS.config.makePromise(function(resolve) resolve(1) end)
    assert.is_true(AWS.Promise.is(p))
  end)

  it("accepts a callable dep(executor)", function()
    local calls = 0
    AWS.config.setPromisesDependency(function(executor)
      calls = calls + 1
      return Mini.new(executor)
    end)
    local p = AWS.config.makePromise(function(_, reject) reject("r") end)
    assert.equal(1, calls)
    assert.equal("rejected", p.state)
  end)

  it("a foreign promise and ours interoperate through next", function()
    AWS.config.setPromisesDependency(Mini)
    local foreign = AWS.config.makePromise(function(resolve) resolve(20) end)
    AWS.config.setPromisesDependency(nil)
    local state, value
    AWS.Promise.resolve(foreign):next(function(v) state, value = "fulfilled", v + 1 end)
    AWS.run()
    assert.same({"fulfilled", 21}, {state, value})
  end)

  it("refuses anything else with a clear error and keeps the old setting", function()
    AWS.config.setPromisesDependency(Mini)
    local ok, err = pcall(AWS.config.setPromisesDependency, 42)
    assert.is_false(ok)
    assert.matches("setPromisesDependency: expected nil, a table with new", tostring(err))
    assert.equal(Mini, AWS.config.getPromisesDependency())
  end)
end)
