-- The Lambda runtime (awspromise.lambda) against the local Runtime API fixture
-- (tools/lambda-runtime-api.py): in this process for the handler forms and failures, and as the
-- real bootstrap (tools/lambda-bootstrap) in a child process for init errors, the seed's handler
-- against dynalite, and 50 invocations in a row with a flat RSS.
local AWS = require "awspromise"
local core = require "awspromise.core"
local lambda = require "awspromise.lambda"
local servers = require "support.servers"
local support = require "support.loop"
local local_aws = require "support.local_aws"

local FIXTURE = "tools/lambda-runtime-api.py"

local api, root

-- Time-bound specs stretch under valgrind (make valgrind), where everything runs ~20x slower.
local SLOW = os.getenv("AWSPROMISE_UNDER_VALGRIND") and 10 or 1

local function start_fixture(args)
  local srv = servers.start(FIXTURE, args)
  srv.api = "127.0.0.1:" .. srv.port
  -- Queues invocations of `payload` (a Lua value, or JSON text when raw); returns their ids.
  function srv.invoke(payload, opts)
    opts = opts or {}
    local body = {payload = opts.raw and payload or core.json_encode(payload), count = opts.count,
      timeout_ms = opts.timeout_ms, client_context = opts.client_context, cognito_identity = opts.cognito_identity}
    return srv.json("POST", "/_control/invoke", body).ids
  end
  function srv.result(id, wait_ms)
    return srv.json("GET", "/_control/result/" .. id .. "?wait_ms=" .. (wait_ms or 4000)) -- below servers.request's 5 s timeout
  end
  function srv.state() return srv.json("GET", "/_control/state") end
  return srv
end

setup(function()
  root = support.repo_root()
  api = start_fixture()
end)

teardown(function()
  servers.stop_all()
end)

-- Queues one invocation per payload, serves them with fn in this process, returns the outcomes.
local function serve(fn, payloads, opts)
  local ids = {}
  for i, payload in ipairs(payloads) do ids[i] = api.invoke(payload, opts)[1] end
  local runtime = lambda.runtime {api = api.api, handler = fn}
  local served, err = runtime:run(#payloads)
  assert.equal(#payloads, served, tostring(err))
  local outcomes = {}
  for i, id in ipairs(ids) do outcomes[i] = api.result(id) end
  return outcomes, ids
end

local function error_of(outcome)
  assert.equal("error", outcome.kind, outcome.body)
  local doc = core.json_decode(outcome.body)
  assert.equal(doc.errorType, outcome.error_type)
  assert.equal(doc.errorType, outcome.headers["lambda-runtime-function-error-type"])
  return doc
end

describe("lambda runtime in process", function()
  it("answers a callback handler's result as JSON", function()
    local out = serve(function(event, _, callback)
      AWS.util.delay(5):next(function() callback(nil, {got = event.x, list = table.pack("a", nil)}) end)
    end, {{x = 7}})
    assert.equal("response", out[1].kind)
    assert.same({got = 7, list = {"a", core.null}}, core.json_decode(out[1].body))
  end)

  it("answers a returned promise's value and a returned plain value", function()
    local out = serve(function(event)
      if event.plain then return "plain " .. event.plain end
      return AWS.util.delay(5):next(function() return {promised = true} end)
    end, {{plain = "v"}, {}})
    assert.equal('"plain v"', out[1].body)
    assert.equal('{"promised":true}', out[2].body)
  end)

  it("lets a handler await on the main thread", function()
    local out = serve(function(event)
      return AWS.util.delay(5):next(function() return event.n + 1 end):await()
    end, {{n = 41}})
    assert.equal("42", out[1].body)
  end)

  it("reports callback(err) as an invocation error with the error's type", function()
    local doc = error_of(serve(function(_, _, callback)
      callback(setmetatable({code = "ValidationException", message = "bad input"}, core.error_metatable))
    end, {{}})[1])
    assert.equal("ValidationException", doc.errorType)
    assert.equal("bad input", doc.errorMessage)
  end)

  it("reports a raised error with where it was raised, then serves the next invocation", function()
    local out = serve(function(event)
      if event.fail then error("handler exploded") end
      return "fine"
    end, {{fail = true}, {fail = false}})
    local doc = error_of(out[1])
    assert.equal("Error", doc.errorType)
    assert.matches("handler exploded", doc.errorMessage)
    assert.matches("lambda_spec.lua:%d+", doc.stackTrace[2] or doc.stackTrace[1])
    assert.equal('"fine"', out[2].body)
  end)

  it("reports a rejected promise, ours or a dependency's", function()
    local Mini = require "support.mini_promise"
    local out = serve(function(event)
      if event.mini then return Mini.new(function(_, reject) reject({errorType = "MiniError", errorMessage = "mini"}) end) end
      return AWS.util.delay(2):next(function() error({code = "Late", message = "rejected later"}) end)
    end, {{mini = true}, {}})
    assert.equal("MiniError", error_of(out[1]).errorType)
    local doc = error_of(out[2])
    assert.equal("Late", doc.errorType)
    assert.equal("rejected later", doc.errorMessage)
  end)

  it("reports Sandbox.Timedout when the deadline passes, ignores the late answer and goes on", function()
    local late_callback
    local out = serve(function(event, _, callback)
      if event.hang then late_callback = callback return end
      return "after"
    end, {{hang = true}, {}}, {timeout_ms = 150 * SLOW})
    local doc = error_of(out[1])
    assert.equal("Sandbox.Timedout", doc.errorType)
    local seconds = tonumber(doc.errorMessage:match("^Task timed out after (%d+%.%d%d) seconds$"))
    assert.is_number(seconds, doc.errorMessage)
    assert.is_true(seconds >= 0.1 * SLOW and seconds < 0.15 * SLOW + 0.05, doc.errorMessage)
    assert.is_true(out[1].answered_ms >= 140 * SLOW, tostring(out[1].answered_ms))
    assert.equal('"after"', out[2].body)
    late_callback(nil, "too late") -- goes nowhere: the invocation is over
    assert.same({}, api.state().rejected)
  end)

  it("runs one invocation's requests concurrently", function()
    local out = serve(function()
      local ms = 150 * SLOW
      return AWS.Promise.all({AWS.util.delay(ms), AWS.util.delay(ms), AWS.util.delay(ms)})
        :next(function(values) return values.n end)
    end, {{}})
    assert.equal("3", out[1].body)
    -- One after the other they would take 450 ms at least.
    assert.is_true(out[1].answered_ms < 400 * SLOW, ("3 x %d ms took %.0f ms"):format(150 * SLOW, out[1].answered_ms))
  end)

  it("gives the handler its context and _X_AMZ_TRACE_ID, and restores os.getenv after", function()
    local seen = {}
    local real_getenv = os.getenv
    serve(function(_, context)
      seen[#seen + 1] = {id = context.awsRequestId, arn = context.invokedFunctionArn,
        left = context.getRemainingTimeInMillis(), trace = os.getenv("_X_AMZ_TRACE_ID"),
        identity = context.identity, custom = context.clientContext and context.clientContext.custom}
    end, {{}, {}}, {timeout_ms = 5000, cognito_identity = '{"cognitoIdentityId":"cid"}',
      client_context = '{"custom":{"k":"v"}}'})
    assert.equal(2, #seen)
    assert.matches("^fixture%-", seen[1].id)
    assert.not_equal(seen[1].id, seen[2].id)
    assert.matches("^arn:aws:lambda:", seen[1].arn)
    assert.is_true(seen[1].left > 3000 and seen[1].left <= 5000, tostring(seen[1].left))
    assert.matches("^Root=1%-%x+%-%x+;", seen[1].trace)
    assert.not_equal(seen[1].trace, seen[2].trace)
    assert.equal("cid", seen[1].identity.cognitoIdentityId)
    assert.equal("v", seen[1].custom.k)
    assert.equal(real_getenv, os.getenv)
    assert.is_nil(os.getenv("_X_AMZ_TRACE_ID"))
  end)

  it("reports an event that is not JSON and a result that cannot be encoded", function()
    local called = false
    local out = serve(function() called = true end, {"{not json"}, {raw = true})
    assert.equal("Runtime.UnmarshalError", error_of(out[1]).errorType)
    assert.is_false(called)
    out = serve(function() return {f = print} end, {{}})
    local doc = error_of(out[1])
    assert.equal("Runtime.MarshalError", doc.errorType)
    assert.matches("function", doc.errorMessage)
  end)

  it("reports a response the API refuses as too large", function()
    local small = start_fixture({"--max-payload", "64"})
    local id = small.invoke({})[1]
    local runtime = lambda.runtime {api = small.api, handler = function() return string.rep("x", 100) end}
    assert.equal(1, runtime:run(1))
    local doc = error_of(small.result(id))
    assert.equal("Function.ResponseSizeTooLarge", doc.errorType)
    assert.matches("64 bytes", doc.errorMessage)
    small.stop()
  end)

  it("stops with a message when the Runtime API is gone", function()
    local runtime = lambda.runtime {api = "127.0.0.1:" .. servers.closed_port(), handler = function() end}
    local served, err = runtime:run(1)
    assert.equal(0, served)
    assert.matches("GET /invocation/next failed", err)
  end)
end)

-- The bootstrap as Lambda runs it: a child process with the environment Lambda sets.
-- `env [-u NAME...] NAME=value... program` as one shell command.
local function env_command(env, program, unset)
  local parts = {"env"}
  for _, name in ipairs(unset or {}) do parts[#parts + 1] = "-u " .. name end
  local assignments = {}
  for name, value in pairs(env) do assignments[#assignments + 1] = name .. "=" .. support.quote(value) end
  table.sort(assignments)
  table.move(assignments, 1, #assignments, #parts + 1, parts)
  parts[#parts + 1] = support.quote(program)
  return table.concat(parts, " ")
end

-- The repository's bootstrap, with the core.so these specs loaded (build/, or build-asan/).
local function bootstrap_command(env)
  local core_path = package.searchpath("awspromise.core", package.cpath)
  local build = core_path and core_path:match("^(.*)/awspromise/core%.so$")
  local with_build = {AWSPROMISE_BUILD = build}
  for name, value in pairs(env) do with_build[name] = value end
  return env_command(with_build, root .. "/tools/lambda-bootstrap")
end

-- Starts a command in the background: {pid =, stop = function() -> its output}.
local function start_child(command)
  local f = assert(io.popen("exec sh -c 'echo $$; exec \"$@\" 2>&1' sh " .. command, "r"))
  local pid = tonumber(f:read("l"))
  local child = {pid = pid}
  function child.stop()
    os.execute("kill " .. pid .. " 2>/dev/null")
    local output = f:read("a")
    f:close()
    return output
  end
  return child
end

local function rss_kb(pid)
  local f = io.open("/proc/" .. pid .. "/status")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return tonumber(text:match("VmRSS:%s*(%d+)"))
end

local function lambda_env(handler, extra)
  local env = {AWS_LAMBDA_RUNTIME_API = api.api, _HANDLER = handler, AWS_LAMBDA_FUNCTION_NAME = "fixture-function",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE = "128", AWS_LAMBDA_FUNCTION_VERSION = "$LATEST"}
  for k, v in pairs(extra or {}) do env[k] = v end
  return env
end

describe("lambda bootstrap", function()
  it("posts an init error and exits when the handler's module does not load", function()
    local dir = support.tmpdir()
    support.write(dir .. "/bad.lua", "local x = = 1")
    local p = io.popen(bootstrap_command(lambda_env("bad.handler", {LAMBDA_TASK_ROOT = dir})) .. " 2>&1")
    local output = p:read("a")
    local _, _, code = p:close()
    support.remove_tmpdirs()
    assert.equal(1, code, output)
    assert.matches("Runtime.ImportModuleError", output, 1, true)
    local init = api.state().init_error
    assert.is_table(init, "no init error recorded")
    assert.equal("Runtime.ImportModuleError", init.error_type)
    local doc = core.json_decode(init.body)
    assert.equal("Runtime.ImportModuleError", doc.errorType)
    assert.matches("bad.lua", doc.errorMessage, 1, true)
  end)

  describe("with the seed's handler against dynalite", function()
    local aws, child, table_name

    setup(function()
      aws = local_aws.get()
      local dynamodb = AWS.DynamoDB(aws.options("dynamodb"))
      table_name = "lambda-seed-" .. os.time()
      dynamodb:createTable({TableName = table_name,
        KeySchema = {{AttributeName = "id", KeyType = "HASH"}},
        AttributeDefinitions = {{AttributeName = "id", AttributeType = "S"}},
        ProvisionedThroughput = {ReadCapacityUnits = 5, WriteCapacityUnits = 5}}):promise():await()
      for _ = 1, 200 do
        if dynamodb:describeTable({TableName = table_name}):promise():await().Table.TableStatus == "ACTIVE" then break end
        AWS.util.delay(25):await()
      end
      for i, name in ipairs({"first", "second", "third"}) do
        dynamodb:putItem({TableName = table_name, Item = {id = {S = tostring(i)}, name = {S = name}}}):promise():await()
      end
      -- Under make asan the child is instrumented too; freed memory waiting in ASan's quarantine
      -- would read as growth in the RSS spec, so the quarantine is off for it.
      local asan = os.getenv("ASAN_OPTIONS")
      local env = lambda_env("handler.handler", {LAMBDA_TASK_ROOT = root .. "/examples/lambda",
        ASAN_OPTIONS = (asan and asan ~= "" and asan .. ":" or "") .. "quarantine_size_mb=0"})
      for name, value in pairs(aws.env) do env[name] = value end
      child = start_child(bootstrap_command(env))
    end)

    teardown(function()
      if child then child.stop() end
    end)

    it("returns the three values", function()
      local id = api.invoke({table = table_name})[1]
      local outcome = api.result(id)
      assert.equal("response", outcome.kind, outcome.body)
      local values = core.json_decode(outcome.body)
      assert.equal(3, #values)
      assert.same({id = {S = "1"}, name = {S = "first"}}, values[1].Item)
      assert.equal("second", values[2].Item.name.S)
      assert.equal("third", values[3].Item.name.S)
    end)

    it("serves 50 invocations in a row with a flat RSS", function()
      local function serve_many(n)
        local ids = api.invoke({table = table_name}, {count = n})
        for _, id in ipairs(ids) do
          local outcome = api.result(id)
          assert.equal("response", outcome.kind, outcome.body)
        end
      end
      -- Warm first: the model parsed, connections open, pools filled, and the Lua heap grown to
      -- its working size (it settles within about 100 invocations of this handler; the garbage
      -- collector's own swing is a few hundred kB). A leak of 10 kB an invocation fails.
      serve_many(100)
      local before = rss_kb(child.pid)
      serve_many(50)
      local after = rss_kb(child.pid)
      assert.is_number(before)
      assert.is_true(after - before < 500, ("RSS grew from %d kB to %d kB over 50 invocations"):format(before, after))
    end)

    it("runs the same handler from the zip tools/lambda-package makes", function()
      local dir = support.tmpdir()
      local p = io.popen(("env -u LD_PRELOAD %s --no-measure --zip %s/function.zip 2>&1"):format(
        support.quote(root .. "/tools/lambda-package"), support.quote(dir)))
      local out = p:read("a")
      assert.is_true(p:close(), out)
      assert.matches("models:%s+dynamodb\n", out)
      assert.matches("glibc needed:%s+GLIBC_2%.%d+", out)
      assert.is_true(os.execute(("cd %s && unzip -q function.zip -d unpacked"):format(support.quote(dir))))
      local own_api = start_fixture() -- the repository's bootstrap polls the shared one
      local env = lambda_env("handler.handler", {LAMBDA_TASK_ROOT = dir .. "/unpacked", AWS_LAMBDA_RUNTIME_API = own_api.api})
      for name, value in pairs(aws.env) do env[name] = value end
      local packaged = start_child(env_command(env, dir .. "/unpacked/bootstrap", {"LD_PRELOAD", "LUA_PATH", "LUA_CPATH"}))
      local outcome = own_api.result(own_api.invoke({table = table_name})[1])
      local logs = packaged.stop()
      own_api.stop()
      support.remove_tmpdirs()
      assert.equal("response", outcome.kind, outcome.body .. logs)
      assert.equal("third", core.json_decode(outcome.body)[3].Item.name.S)
      assert.matches("Value 0 is first", logs)
    end)

    it("reports a missing table as the invocation's error", function()
      local outcome = api.result(api.invoke({table = "no-such-table"})[1])
      assert.equal("ResourceNotFoundException", error_of(outcome).errorType)
    end)
  end)
end)
