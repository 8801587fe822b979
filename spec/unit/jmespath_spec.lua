-- The JMESPath subset of lua/awspromise/jmespath.lua, against the specification's semantics.
local jmespath = require "awspromise.jmespath"
local core = require "awspromise.core"

local search = jmespath.search

local DATA = {
  Reservations = {
    {Instances = {{Id = "i-1", State = {Name = "running"}}, {Id = "i-2", State = {Name = "pending"}}}},
    {Instances = {{Id = "i-3", State = {Name = "running"}}}},
    {Instances = {}},
  },
  Contents = {{Key = "a", Size = 1}, {Key = "b", Size = 5}, {Key = "c", Size = 10}},
  Nested = {{1, 2}, {3, {4}}, 5},
  Empty = {},
  Text = "héllo",
  Flag = false,
  Zero = 0,
  Attributes = {x = {Status = "Success"}, y = {Status = "Pending"}},
  ["with space"] = "quoted",
  services = {
    {name = "a", deployments = {1}, runningCount = 2, desiredCount = 2},
    {name = "b", deployments = {1, 2}, runningCount = 1, desiredCount = 2},
  },
}

describe("jmespath: paths and projections", function()
  it("fields, sub-expressions and missing fields", function()
    assert.equal("running", search(DATA, "Reservations[0].Instances[0].State.Name"))
    assert.is_nil(search(DATA, "Nope.Deeper"))
    assert.is_nil(search(DATA, "Text.Deeper"))
    assert.equal("quoted", search(DATA, '"with space"'))
  end)

  it("indexes, negative ones count from the end", function()
    assert.equal("c", search(DATA, "Contents[-1].Key"))
    assert.equal("a", search(DATA, "Contents[0].Key"))
    assert.is_nil(search(DATA, "Contents[7].Key"))
    assert.is_nil(search(DATA, "Text[0]"))
  end)

  it("[] flattens one level and projects; [*] projects without flattening", function()
    assert.same({"running", "pending", "running"}, search(DATA, "Reservations[].Instances[].State.Name"))
    assert.same({{"i-1", "i-2"}, {"i-3"}, {}}, search(DATA, "Reservations[*].Instances[*].Id"))
    assert.same({1, 2, 3, {4}, 5}, search(DATA, "Nested[]"))
    assert.same({"a", "b", "c"}, search(DATA, "Contents[*].Key"))
  end)

  it("a projection drops nulls; projecting a non-list is null", function()
    assert.same({{"i-1"}, {}, {}}, search(DATA, "Reservations[].Instances[?Id == 'i-1'].Id"))
    assert.same({}, search(DATA, "Reservations[].Instances[][?Id == 'i-1'].Id")) -- filters each instance
    assert.same({"i-1"}, search(DATA, "Reservations[].Instances[] | [?Id == 'i-1'].Id"))
    assert.same({}, search(DATA, "Contents[*].Nope"))
    assert.is_nil(search(DATA, "Text[*]"))
    assert.is_nil(search(DATA, "Attributes[]"))
  end)

  it("* projects an object's values", function()
    local statuses = search(DATA, "Attributes.*.Status")
    table.sort(statuses)
    assert.same({"Pending", "Success"}, statuses)
    assert.is_nil(search(DATA, "Contents[0].Key.*"))
  end)

  it("filters with comparisons, && || ! and parentheses", function()
    assert.same({"b", "c"}, search(DATA, "Contents[?Size > `1`].Key"))
    assert.same({"a", "b"}, search(DATA, "Contents[?Size <= `5`].Key"))
    assert.same({"a", "c"}, search(DATA, "Contents[?Key == 'a' || Key == 'c'].Key"))
    assert.same({"b"}, search(DATA, "Contents[?Size >= `5` && !(Key == 'c')].Key"))
    assert.same({"b"}, search(DATA, "services[?!(length(deployments) == `1` && runningCount == desiredCount)].name"))
  end)

  it("pipes stop a projection; @ is the current value", function()
    assert.equal("a", search(DATA, "Contents[*].Key | [0]"))
    assert.equal(3, search(DATA, "Contents[*].Key | length(@)"))
  end)
end)

describe("jmespath: values", function()
  it("|| and && return operands by truthiness (empty and false are false)", function()
    assert.equal("c", search(DATA, "Nope || Contents[-1].Key"))
    assert.equal("c", search(DATA, "Empty || Contents[-1].Key"))
    assert.equal("c", search(DATA, "Flag || Contents[-1].Key"))
    assert.equal(0, search(DATA, "Zero || Contents[-1].Key"))
    assert.equal(false, search(DATA, "Flag && Text"))
    assert.equal("héllo", search(DATA, "Zero && Text"))
  end)

  it("comparisons: equality is deep; ordering only for numbers", function()
    assert.is_true(search(DATA, "Contents[0] == `{\"Key\": \"a\", \"Size\": 1}`"))
    assert.is_false(search(DATA, "Contents[0] == Contents[1]"))
    assert.is_true(search(DATA, "Nope == `null`"))
    assert.is_true(search(DATA, "Text != 'hello'"))
    assert.is_nil(search(DATA, "Text < `5`"))
  end)

  it("literals: JSON in backticks, raw strings in quotes", function()
    assert.same({1, 2}, search(DATA, "`[1, 2]`"))
    assert.equal("it's", search(DATA, "'it\\'s'"))
    assert.is_nil(search(DATA, "`null`"))
    assert.is_true(search(DATA, "`true`"))
  end)

  it("functions: length counts characters, entries and members", function()
    assert.equal(5, search(DATA, "length(Text)"))
    assert.equal(3, search(DATA, "length(Contents)"))
    assert.equal(2, search(DATA, "length(Attributes)"))
    assert.is_true(search(DATA, "length(Reservations[]) > `0`"))
    assert.is_true(search(DATA, "length(Empty) == `0`"))
  end)

  it("functions: contains, starts_with, ends_with, not_null, keys, values, type", function()
    assert.is_true(search(DATA, "contains(Contents[].Key, 'b')"))
    assert.is_false(search(DATA, "contains(Contents[].Key, 'z')"))
    assert.is_true(search(DATA, "contains(Text, 'll')"))
    assert.is_true(search(DATA, "starts_with(Text, 'hé')"))
    assert.is_true(search(DATA, "ends_with(Text, 'lo')"))
    assert.equal("a", search(DATA, "not_null(Nope, Contents[0].Key)"))
    assert.same({"x", "y"}, search(DATA, "keys(Attributes)"))
    assert.equal(2, #search(DATA, "values(Attributes)"))
    local types = {}
    for _, path in ipairs {"Text", "Contents", "Attributes", "Nope", "Flag", "Zero"} do
      types[#types + 1] = search(DATA, "type(" .. path .. ")")
    end
    assert.same({"string", "array", "object", "null", "boolean", "number"}, types)
  end)

  it("a function given the wrong type raises JMESPathError", function()
    local ok, err = pcall(search, DATA, "length(Zero)")
    assert.is_false(ok)
    assert.equal("JMESPathError", err.code)
    assert.matches("length", err.message)
  end)

  it("core.null counts as null", function()
    assert.is_nil(search({a = core.null}, "a"))
    assert.equal("y", search({a = core.null, b = "y"}, "a || b"))
    assert.same({"x"}, search({list = {"x", core.null}}, "list[]"))
  end)

  it("equal and truthy are exported for the waiters", function()
    assert.is_true(jmespath.equal({a = {1, 2}}, {a = {1, 2}}))
    assert.is_false(jmespath.equal({a = {1, 2}}, {a = {1, 2, 3}}))
    assert.is_false(jmespath.truthy(""))
    assert.is_true(jmespath.truthy(0))
  end)
end)

describe("jmespath: what the subset leaves out", function()
  local function refused(expression, pattern)
    local ok, err = pcall(jmespath.compile, expression)
    assert.is_false(ok, expression .. " compiled")
    assert.equal("JMESPathError", err.code)
    assert.matches(pattern, err.message)
  end

  it("refuses slices, multi-selects, expression references and other functions by name", function()
    refused("Contents[0:2]", "slices")
    refused("Contents[:2]", "slices")
    refused("[Contents, Text]", "multi%-select lists")
    refused("Contents[].[Key, Size]", "multi%-select lists")
    refused("{k: Text}", "multi%-select hashes")
    refused("Contents[].{k: Key}", "multi%-select hashes")
    refused("sort_by(Contents, &Size)", "not supported")
    refused("max(Contents[].Size)", "max%(%) is not supported")
    assert.is_true(#jmespath.UNSUPPORTED >= 5)
  end)

  it("reports syntax errors with the position", function()
    local ok, err = pcall(jmespath.compile, "a.")
    assert.is_false(ok)
    assert.matches("position 3", err.message)
    assert.is_false(pcall(jmespath.compile, "a[?b == 'c'"))
    assert.is_false(pcall(jmespath.compile, "a ^ b"))
    assert.is_false(pcall(jmespath.compile, "length(a"))
    assert.is_false(pcall(jmespath.compile, "length(a, b)"))
    assert.is_false(pcall(jmespath.compile, ""))
  end)

  it("compiles an expression once", function()
    assert.equal(jmespath.compile("Contents[-1].Key"), jmespath.compile("Contents[-1].Key"))
  end)
end)
