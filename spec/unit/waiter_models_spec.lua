-- Every paginator and every waiter of every shipped model loads: its expressions compile with the
-- JMESPath subset and its operations exist in the model. Also the acceptors' matching rules.
local core = require "awspromise.core"
local models = require "awspromise.models"
local paginator = require "awspromise.paginator"
local waiter = require "awspromise.waiter"

local function shipped_files(kind)
  local p = assert(io.popen("ls -1 '" .. models.dir() .. "'"))
  local n = 0
  for name in p:lines() do
    if name:match("%." .. kind .. "%.json$") then n = n + 1 end
  end
  p:close()
  return n
end

-- Every (id, version) whose file of this kind is shipped, each file once.
local function each_model(kind)
  local list, seen = {}, {}
  for id in pairs(models.services()) do
    local ok, versions = pcall(models.versions, id)
    for _, version in ipairs(ok and versions or {}) do
      local path = models.path(id, version, kind)
      local f = io.open(path, "rb")
      if f and not seen[path] then
        f:close()
        seen[path] = true
        list[#list + 1] = {id = id, version = version, path = path}
      elseif f then
        f:close()
      end
    end
  end
  table.sort(list, function(a, b) return a.path < b.path end)
  return list
end

local model_cache = {}
local function model_of(entry)
  local key = entry.id .. "@" .. entry.version
  local model = model_cache[key]
  if not model then
    model = core.model_load(models.read(entry.id, entry.version))
    model_cache[key] = model
  end
  return model
end

local function client_of(entry)
  return {serviceIdentifier = entry.id, modelVersion = entry.version}
end

-- Compiles every definition of every shipped file of `kind`, runs it once on an empty answer and
-- checks its operation; returns the number of files, of definitions, and the problems found.
local function walk(kind, definitions, compile, operation_of, run)
  local files, count, problems = 0, 0, {}
  for _, entry in ipairs(each_model(kind)) do
    files = files + 1
    local model = model_of(entry)
    for name, definition in pairs(models.definitions(client_of(entry), definitions)) do
      count = count + 1
      local where = entry.path .. " " .. name .. ": "
      local ok, config = pcall(compile, name, definition)
      if not ok then
        problems[#problems + 1] = where .. tostring(config.message or config)
      else
        local operation = operation_of(name, config)
        if not model:operation(operation) then problems[#problems + 1] = where .. "no operation " .. operation end
        local ran, err = pcall(run, config)
        if not ran then problems[#problems + 1] = where .. tostring(err) end
      end
    end
  end
  return files, count, problems
end

describe("the shipped paginators", function()
  it("all load: expressions compile, operations exist, tokens pair up", function()
    local files, paginators, problems = walk("paginators", "paginators",
      function(_, definition) return paginator.compile(definition) end,
      function(name) return name end,
      function(config)
        paginator.next_tokens(config, {}, {})
        paginator.page_items(config, {})
      end)
    assert.same({}, problems)
    assert.equal(shipped_files("paginators"), files)
    assert.is_true(files >= 394, "expected the 394 shipped paginators files, found " .. files)
    assert.is_true(paginators >= 3098, "expected the 3098 shipped paginators, found " .. paginators)
  end)
end)

describe("the shipped waiters", function()
  it("all load: acceptors are known, path expressions compile, operations exist", function()
    local acceptors = 0
    local files, waiters, problems = walk("waiters2", "waiters", waiter.compile,
      function(_, config) return config.operation end,
      function(config)
        acceptors = acceptors + #config.acceptors
        waiter.verdict(config, {data = {}, statusCode = 200})
      end)
    assert.same({}, problems)
    assert.equal(shipped_files("waiters2"), files)
    assert.is_true(files >= 97, "expected the 97 shipped waiters2 files, found " .. files)
    assert.is_true(waiters >= 285, "expected the 285 shipped waiters, found " .. waiters)
    assert.is_true(acceptors > waiters)
  end)
end)

describe("waiter acceptors", function()
  local function config(acceptors)
    return waiter.compile("Test", {operation = "Describe", delay = 1, maxAttempts = 2, acceptors = acceptors})
  end

  it("path compares the value; pathAll needs a non-empty all-equal list; pathAny one match", function()
    local c = config {
      {matcher = "pathAll", argument = "Items[].State", expected = "ready", state = "success"},
      {matcher = "pathAny", argument = "Items[].State", expected = "broken", state = "failure"},
      {matcher = "path", argument = "length(Items) == `0`", expected = true, state = "failure"},
    }
    assert.equal("success", waiter.verdict(c, {data = {Items = {{State = "ready"}, {State = "ready"}}}}))
    assert.equal("failure", waiter.verdict(c, {data = {Items = {{State = "ready"}, {State = "broken"}}}}))
    assert.equal("retry", waiter.verdict(c, {data = {Items = {{State = "ready"}, {State = "coming"}}}}))
    assert.equal("failure", waiter.verdict(c, {data = {Items = {}}}))
  end)

  it("status and error, and what happens when nothing matches", function()
    local c = config {
      {matcher = "status", expected = 200, state = "success"},
      {matcher = "error", expected = "NotFound", state = "retry"},
    }
    assert.equal("success", waiter.verdict(c, {statusCode = 200, data = {}}))
    assert.equal("retry", waiter.verdict(c, {statusCode = 404, error = {code = "NotFound"}}))
    -- an error no acceptor expects fails; a response no acceptor matches is retried
    assert.equal("failure", waiter.verdict(c, {statusCode = 500, error = {code = "InternalError"}}))
    assert.equal("retry", waiter.verdict(c, {statusCode = 204, data = {}}))
    local presence = config {{matcher = "error", expected = false, state = "success"},
      {matcher = "error", expected = true, state = "retry"}}
    assert.equal("success", waiter.verdict(presence, {statusCode = 200, data = {}}))
    assert.equal("retry", waiter.verdict(presence, {statusCode = 400, error = {code = "Any"}}))
  end)

  it("an acceptor whose expression fails at run time does not match", function()
    local c = config {{matcher = "path", argument = "length(Count) > `0`", expected = true, state = "success"}}
    assert.equal("retry", waiter.verdict(c, {data = {Count = 5}}))
  end)

  it("refuses a malformed definition", function()
    assert.has_error(function() waiter.compile("X", {operation = "Op", acceptors = {}}) end)
    assert.has_error(function()
      waiter.compile("X", {operation = "Op", acceptors = {{matcher = "nope", expected = 1, state = "success"}}})
    end)
    assert.has_error(function()
      waiter.compile("X", {operation = "Op", acceptors = {{matcher = "path", expected = 1, state = "success"}}})
    end)
    assert.has_error(function()
      waiter.compile("X", {operation = "Op", acceptors = {{matcher = "status", expected = 1, state = "later"}}})
    end)
  end)
end)
