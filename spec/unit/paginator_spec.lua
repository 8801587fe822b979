-- Paging without servers: a small JSON model whose transport (core.http) is replaced by a Lua
-- function, so that each page, token and abort is seen exactly.
local AWS = require "awspromise"
local core = require "awspromise.core"
local paginator = require "awspromise.paginator"

local function structure(members) return {type = "structure", members = members} end

local API = {
  metadata = {apiVersion = "2020-01-01", endpointPrefix = "pager", jsonVersion = "1.1", protocol = "json",
    serviceId = "Pager", signatureVersion = "v4", targetPrefix = "Pager", uid = "pager-2020-01-01"},
  operations = {},
  shapes = {
    Input = structure {
      NextToken = {shape = "S"}, Limit = {shape = "I"}, Marker = {shape = "S"}, KeyMarker = {shape = "S"},
      IdMarker = {shape = "S"}, StartKey = {shape = "Key"}, Token = {shape = "S"}, Fail = {shape = "I"},
    },
    Output = structure {
      Things = {shape = "Things"}, Prefixes = {shape = "Names"}, NextToken = {shape = "S"}, NextMarker = {shape = "S"},
      IsTruncated = {shape = "B"}, NextKeyMarker = {shape = "S"}, NextIdMarker = {shape = "S"},
      LastKey = {shape = "Key"}, Forward = {shape = "S"},
    },
    Things = {type = "list", member = {shape = "Thing"}},
    Thing = structure {Name = {shape = "S"}},
    Names = {type = "list", member = {shape = "S"}},
    Key = {type = "map", key = {shape = "S"}, value = {shape = "S"}},
    S = {type = "string"}, I = {type = "integer"}, B = {type = "boolean"},
  },
  paginators = {pagination = {
    ListThings = {input_token = "NextToken", output_token = "NextToken", limit_key = "Limit", result_key = "Things"},
    ListMarked = {input_token = "Marker", output_token = "NextMarker || Things[-1].Name", more_results = "IsTruncated",
      result_key = {"Things", "Prefixes"}},
    ListPairs = {input_token = {"KeyMarker", "IdMarker"}, output_token = {"NextKeyMarker", "NextIdMarker"},
      result_key = "Things"},
    ScanMap = {input_token = "StartKey", output_token = "LastKey", result_key = "Things"},
    Tail = {input_token = "Token", output_token = "Forward", limit_key = "Limit", result_key = "Things"},
  }},
}
for _, op in ipairs {"ListThings", "ListMarked", "ListPairs", "ScanMap", "Tail", "Describe"} do
  API.operations[op] = {name = op, http = {method = "POST", requestUri = "/"}, input = {shape = "Input"},
    output = {shape = "Output"}}
end

local function things(from, to)
  local list = {}
  for i = from, to do list[#list + 1] = {Name = string.format("t%03d", i)} end
  return list
end

-- The fake service: handlers[op](input, call number) -> output table, or "hang" (never answers).
local handlers, calls, transfers
local real_http

-- core.http's two forms: (opts) -> promise, transfer; (opts, done, ctx) -> transfer, with
-- done(ctx, response_or_error) called later from the loop.
local function fake_http(http, done, ctx)
  local op = http.headers["X-Amz-Target"]:match("^Pager%.(.+)$")
  local input = core.json_decode(http.body)
  calls[#calls + 1] = {op = op, input = input}
  local output = handlers[op](input, #calls)
  local transfer = {aborted = false}
  function transfer.abort() transfer.aborted = true end
  transfers[#transfers + 1] = transfer
  local answer = core.pending()
  if output ~= "hang" then
    local status, body = 200, output
    if output.error then status, body = 400, {__type = output.error, message = "failed on purpose"} end
    answer = core.resolve({statusCode = status, headers = {["content-type"] = "application/x-amz-json-1.1"},
      body = core.json_encode(body)})
  end
  if not done then return answer, transfer end
  answer:next(function(response) if not transfer.aborted then done(ctx, response) end end)
  return transfer
end

local client
before_each(function()
  handlers, calls, transfers = {}, {}, {}
  real_http = core.http
  core.http = fake_http
  client = AWS.Service {apiConfig = API, region = "us-east-1", endpoint = "http://127.0.0.1:9",
    credentials = {accessKeyId = "AKID", secretAccessKey = "SECRET"}, maxRetries = 0}
end)

after_each(function()
  core.http = real_http
end)

-- ListThings over `total` things, `Limit` (default 10) per page, NextToken = the next index.
local function serve_things(total)
  handlers.ListThings = function(input)
    local from = tonumber(input.NextToken or "1")
    local limit = input.Limit or 10
    local to = math.min(total, from + limit - 1)
    return {Things = things(from, to), NextToken = to < total and tostring(to + 1) or nil}
  end
end

local function names(list)
  local out = {}
  for i, t in ipairs(list) do out[i] = t.Name end
  return out
end

describe("request:isPageable and response:hasNextPage / nextPage", function()
  it("knows which operations page", function()
    assert.is_true(client:listThings():isPageable())
    assert.is_false(client:describe():isPageable())
  end)

  it("follows the output token into the next request, then says there is no next page", function()
    serve_things(25)
    local data = client:listThings({Limit = 10}):promise():await()
    local response = data["$response"]
    assert.is_true(response:hasNextPage())
    local second = response:nextPage()
    assert.equal("11", second.params.NextToken)
    assert.equal(10, second.params.Limit)
    local data2 = second:promise():await()
    assert.same(names(things(11, 20)), names(data2.Things))
    local third = data2["$response"]:nextPage():promise():await()
    assert.same(names(things(21, 25)), names(third.Things))
    assert.is_false(third["$response"]:hasNextPage())
    assert.is_nil(third["$response"]:nextPage())
    assert.equal(3, #calls)
  end)

  it("nextPage(callback) sends the next page, and calls back (nil, nil) after the last one", function()
    serve_things(12)
    local data = client:listThings():promise():await()
    local got
    data["$response"]:nextPage(function(err, page) got = {err = err, page = page} end)
    AWS.run()
    assert.is_nil(got.err)
    assert.same({"t011", "t012"}, names(got.page.Things))
    local last
    got.page["$response"]:nextPage(function(err, page) last = {err = err, page = page, called = true} end)
    assert.is_true(last.called)
    assert.is_nil(last.err)
    assert.is_nil(last.page)
  end)

  it("an operation without a paginator: hasNextPage is nil and nextPage raises", function()
    handlers.Describe = function() return {} end
    local data = client:describe():promise():await()
    assert.is_nil(data["$response"]:hasNextPage())
    local ok, err = pcall(data["$response"].nextPage, data["$response"])
    assert.is_false(ok)
    assert.matches("No pagination configuration for Describe", err.message)
    assert.has_error(function() client:paginate("describe") end)
  end)
end)

describe("request:eachPage", function()
  it("calls back per page in order, then once with nil data", function()
    serve_things(23)
    local seen = {}
    client:listThings({Limit = 10}):eachPage(function(err, data)
      assert.is_nil(err)
      seen[#seen + 1] = data and #data.Things or "end"
    end)
    AWS.run()
    assert.same({10, 10, 3, "end"}, seen)
    assert.same({"11", "21"}, {calls[2].input.NextToken, calls[3].input.NextToken})
  end)

  it("stops when the callback returns false: no further page and no final call", function()
    serve_things(50)
    local seen = 0
    client:listThings():eachPage(function(_, data)
      seen = seen + 1
      assert.is_table(data)
      if seen == 2 then return false end
    end)
    AWS.run()
    assert.equal(2, seen)
    assert.equal(2, #calls)
  end)

  it("with a done parameter, fetches the next page only when done() is called", function()
    serve_things(30)
    local pages, dones = {}, {}
    client:listThings():eachPage(function(_, data, done)
      pages[#pages + 1] = data and #data.Things or "end"
      dones[#dones + 1] = done
    end)
    AWS.run()
    assert.same({10}, pages)
    assert.equal(1, #calls)
    dones[1]()
    dones[1]() -- a second call changes nothing
    AWS.run()
    assert.same({10, 10}, pages)
    assert.equal(2, #calls)
    dones[2]()
    AWS.run()
    dones[3]()
    AWS.run()
    assert.same({10, 10, 10, "end"}, pages)
    assert.equal(3, #calls)
  end)

  it("done(false) stops", function()
    serve_things(30)
    local pages = 0
    client:listThings():eachPage(function(_, _, done)
      pages = pages + 1
      done(false)
    end)
    AWS.run()
    assert.equal(1, pages)
    assert.equal(1, #calls)
  end)

  it("passes a failed page's error, then ends with nil data", function()
    handlers.ListThings = function(input)
      if input.NextToken then return {error = "BrokenPage"} end
      return {Things = things(1, 2), NextToken = "3"}
    end
    local seen = {}
    client:listThings():eachPage(function(err, data)
      seen[#seen + 1] = {err = err and err.code, n = data and #data.Things}
    end)
    AWS.run()
    assert.same({{n = 2}, {err = "BrokenPage"}, {}}, seen)
  end)
end)

describe("request:eachItem", function()
  it("gives every item of every result key, with the key, then (nil, nil)", function()
    handlers.ListMarked = function(input)
      if not input.Marker then return {Things = things(1, 2), Prefixes = {"p/"}, IsTruncated = true} end
      return {Things = things(3, 3), IsTruncated = false}
    end
    local items = {}
    client:listMarked():eachItem(function(err, item, key)
      assert.is_nil(err)
      items[#items + 1] = item == nil and "end" or (key .. ":" .. (type(item) == "table" and item.Name or item))
    end)
    AWS.run()
    assert.same({"Things:t001", "Things:t002", "Prefixes:p/", "Things:t003", "end"}, items)
    -- no NextMarker: the last key of the page is the marker
    assert.equal("t002", calls[2].input.Marker)
  end)

  it("returning false stops at that item", function()
    serve_things(40)
    local n = 0
    client:listThings():eachItem(function(_, item)
      n = n + 1
      if item and item.Name == "t012" then return false end
    end)
    AWS.run()
    assert.equal(12, n)
    assert.equal(2, #calls)
  end)
end)

describe("tokens", function()
  it("more_results false ends the paging even with a token present", function()
    handlers.ListMarked = function(input)
      if input.Marker then return {Things = things(9, 9), NextMarker = "again", IsTruncated = false} end
      return {Things = things(1, 1), NextMarker = "m2", IsTruncated = true}
    end
    local all = client:paginate("listMarked"):all():await()
    assert.same({"t001", "t009"}, names(all))
    assert.equal("m2", calls[2].input.Marker)
    assert.equal(2, #calls)
  end)

  it("passes several tokens together, and keeps going while one of them is present", function()
    local pages = {
      {Things = things(1, 1), NextKeyMarker = "k1", NextIdMarker = "v1"},
      {Things = things(2, 2), NextKeyMarker = "k2"},
      {Things = things(3, 3)},
    }
    handlers.ListPairs = function(_, n) return pages[n] end
    local all = client:paginate("ListPairs"):all():await()
    assert.same({"t001", "t002", "t003"}, names(all))
    assert.same({"k1", "v1"}, {calls[2].input.KeyMarker, calls[2].input.IdMarker})
    assert.same({"k2"}, {calls[3].input.KeyMarker, calls[3].input.IdMarker})
  end)

  it("a map token (as DynamoDB's LastEvaluatedKey) goes back whole", function()
    handlers.ScanMap = function(input)
      if not input.StartKey then return {Things = things(1, 1), LastKey = {pk = "a", sk = "1"}} end
      return {Things = things(2, 2)}
    end
    local all = client:paginate("scanMap"):all():await()
    assert.equal(2, #all)
    assert.same({pk = "a", sk = "1"}, calls[2].input.StartKey)
  end)

  it("a token that comes back as it was sent ends the paging", function()
    handlers.Tail = function(input)
      local at = tonumber((input.Token or "f/0"):match("%d+"))
      local to = math.min(at + 4, 7)
      return {Things = things(at + 1, to), Forward = "f/" .. to}
    end
    local pages = 0
    for _ in client:paginate("tail") do
      pages = pages + 1
      assert.is_true(pages < 10, "endless paging")
    end
    assert.equal(3, pages) -- 4 things, 3 things, then nothing with the same token
    assert.equal("f/7", calls[3].input.Token)
  end)

  it("compile refuses a paginator whose token lists differ in length", function()
    assert.has_error(function()
      paginator.compile {input_token = {"A", "B"}, output_token = "C"}
    end)
  end)
end)

describe("client:paginate", function()
  it("iterates pages on the main thread, fetching each only when the loop asks", function()
    serve_things(25)
    local sizes = {}
    for page in client:paginate("listThings") do
      sizes[#sizes + 1] = #page.Things
      assert.equal(#sizes, #calls, "a page was fetched before the loop asked for it")
    end
    assert.same({10, 10, 5}, sizes)
  end)

  it("prefetch fetches one page ahead", function()
    serve_things(25)
    local seen = 0
    for _ in client:paginate("listThings", nil, {prefetch = true}) do
      seen = seen + 1
      if seen == 1 then assert.equal(2, #calls) end
    end
    assert.equal(3, seen)
    assert.equal(3, #calls)
  end)

  it("break aborts the page fetched ahead", function()
    handlers.ListThings = function(input)
      if input.NextToken then return "hang" end
      return {Things = things(1, 2), NextToken = "3"}
    end
    for _ in client:paginate("listThings", {}, {prefetch = true}) do break end
    assert.equal(2, #calls)
    assert.is_true(transfers[2].aborted)
    assert.is_false(transfers[1].aborted)
  end)

  it("an error leaves the loop with that error, aborting the page fetched ahead", function()
    handlers.ListThings = function(input)
      if input.NextToken then return "hang" end
      return {Things = things(1, 2), NextToken = "3"}
    end
    local ok, err = pcall(function()
      for _ in client:paginate("listThings", {}, {prefetch = true}) do error({code = "Mine"}) end
    end)
    assert.is_false(ok)
    assert.equal("Mine", err.code)
    assert.is_true(transfers[2].aborted)
  end)

  it("a page that fails raises its error from the loop", function()
    handlers.ListThings = function(input)
      if input.NextToken then return {error = "BrokenPage"} end
      return {Things = things(1, 2), NextToken = "3"}
    end
    local pages = 0
    local ok, err = pcall(function()
      for _ in client:paginate("listThings") do pages = pages + 1 end
    end)
    assert.is_false(ok)
    assert.equal("BrokenPage", err.code)
    assert.equal(1, pages)
  end)

  it("items() inside AWS.async, with the result key", function()
    serve_things(15)
    local got = AWS.async(function()
      local list = {}
      for item, key in client:paginate("listThings"):items() do list[#list + 1] = key .. "=" .. item.Name end
      return list
    end):await()
    assert.equal(15, #got)
    assert.equal("Things=t001", got[1])
    assert.equal("Things=t015", got[15])
  end)

  it("closing the coroutine that awaits a page aborts that page", function()
    handlers.ListThings = function() return "hang" end
    local thread
    local outcome = AWS.async(function()
      thread = coroutine.running()
      for _ in client:paginate("listThings") do end
    end)
    outcome:catch(function() end) -- it can only fail: its coroutine is closed below
    AWS.run()
    assert.equal(1, #calls)
    assert.equal("suspended", coroutine.status(thread))
    coroutine.close(thread)
    assert.is_true(transfers[1].aborted)
  end)

  it("all() is a promise of every item; MaxItems bounds it and stops fetching", function()
    serve_things(95)
    assert.equal(95, #client:paginate("listThings"):all():await())
    local before = #calls
    local some = client:paginate("listThings", {}, {MaxItems = 23}):all():await()
    assert.same(names(things(1, 23)), names(some))
    assert.equal(3, #calls - before)
  end)

  it("PageSize sets the paginator's limit key", function()
    serve_things(9)
    local sizes = {}
    for page in client:paginate("listThings", {}, {PageSize = 4}) do sizes[#sizes + 1] = #page.Things end
    assert.same({4, 4, 1}, sizes)
    assert.equal(4, calls[1].input.Limit)
  end)

  it("does not change the caller's params", function()
    serve_things(12)
    local params = {Limit = 5}
    client:paginate("listThings", params, {PageSize = 6}):all():await()
    assert.same({Limit = 5}, params)
  end)

  it("refuses bad arguments", function()
    assert.has_error(function() client:paginate("noSuchOperation") end)
    assert.has_error(function() client:paginate("listThings", "params") end)
    assert.has_error(function() client:paginate("listThings", {}, {MaxItems = 0}) end)
    assert.has_error(function() client:paginate("listMarked", {}, {PageSize = 3}) end)
    assert.has_error(function() client:listThings():eachPage("not a function") end)
  end)
end)
