-- The pure parts of the Lambda runtime (awspromise.lambda): the JSON rule, the context object,
-- finding _HANDLER's function, the three handler forms and the error document.
local AWS = require "awspromise"
local core = require "awspromise.core"
local lambda = require "awspromise.lambda"
local support = require "support.loop"

local function decode(text) return core.json_decode(text) end

describe("lambda JSON rule", function()
  it("encodes nil as null, a sequence as an array and a table with string keys as an object", function()
    assert.equal("null", lambda.encode_result(nil))
    assert.equal("[1,2,3]", lambda.encode_result({1, 2, 3}))
    assert.equal('{"a":1,"b":"x"}', lambda.encode_result({a = 1, b = "x"}))
  end)

  it("encodes an empty table as {} and one marked with array_mt as []", function()
    assert.equal("{}", lambda.encode_result({}))
    assert.equal("[]", lambda.encode_result(setmetatable({}, lambda.array_mt)))
    assert.equal('{"items":[]}', lambda.encode_result({items = setmetatable({}, lambda.array_mt)}))
  end)

  it("encodes a packed list (table.pack, AWS.Promise.all) as an array of n items, holes as null", function()
    assert.equal("[1,null,3,null]", lambda.encode_result(table.pack(1, nil, 3, nil)))
    assert.equal('{"values":[{"x":1},"y"]}', lambda.encode_result({values = {n = 2, {x = 1}, "y"}}))
  end)

  it("keeps a table whose only key is n an object, and n beside other string keys an object", function()
    assert.equal('{"n":2}', lambda.encode_result({n = 2}))
    assert.equal('{"n":1,"name":"a"}', lambda.encode_result({n = 1, name = "a"}))
  end)

  it("does not change the table it encodes", function()
    local inner = table.pack("a", "b")
    local result = {list = inner}
    assert.equal('{"list":["a","b"]}', lambda.encode_result(result))
    assert.equal(inner, result.list)
    assert.equal(2, inner.n)
    assert.is_nil(getmetatable(inner))
  end)

  it("turns a value with no JSON form into an error, not a crash", function()
    local text, err = lambda.encode_result({f = print})
    assert.is_nil(text)
    assert.matches("function", err)
    local cyclic = {}
    cyclic.self = {back = cyclic}
    text, err = lambda.encode_result(cyclic)
    assert.is_nil(text)
    assert.matches("cycle", err)
    text, err = lambda.encode_result({1, 2, x = 3})
    assert.is_nil(text)
    assert.matches("mixes integer and string keys", err)
  end)

  it("decodes events: null is lambda.null, arrays are sequences, bad JSON is an error", function()
    local event = lambda.decode_event('{"a":[1,2],"b":null,"c":{"d":true}}')
    assert.same({1, 2}, event.a)
    assert.equal(lambda.null, event.b)
    assert.is_true(event.c.d)
    assert.equal(lambda.null, lambda.decode_event("null"))
    local value, err = lambda.decode_event("{nope")
    assert.is_nil(value)
    assert.matches("json_decode", err)
  end)

  it("round-trips an event that holds no empty array", function()
    local text = '{"list":[1,{"k":"v"},null],"n":1.5,"s":"x"}'
    assert.same(decode(text), decode(lambda.encode_result(lambda.decode_event(text))))
  end)
end)

describe("lambda context", function()
  local env = {
    AWS_LAMBDA_FUNCTION_NAME = "fn", AWS_LAMBDA_FUNCTION_VERSION = "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE = "256", AWS_LAMBDA_LOG_GROUP_NAME = "/aws/lambda/fn",
    AWS_LAMBDA_LOG_STREAM_NAME = "2026/11/30/[$LATEST]abc",
  }
  local function getenv(name) return env[name] end
  local headers = {
    ["lambda-runtime-aws-request-id"] = "req-1",
    ["lambda-runtime-deadline-ms"] = "1000000500",
    ["lambda-runtime-invoked-function-arn"] = "arn:aws:lambda:us-east-1:1:function:fn",
    ["lambda-runtime-cognito-identity"] = '{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool"}',
    ["lambda-runtime-client-context"] = '{"custom":{"k":"v"},"client":{"app_title":"t"}}',
  }

  it("carries the invocation's headers and the function's environment", function()
    local ctx = lambda.context(headers, getenv, function() return 1000000000 end)
    assert.equal("req-1", ctx.awsRequestId)
    assert.equal("arn:aws:lambda:us-east-1:1:function:fn", ctx.invokedFunctionArn)
    assert.equal("fn", ctx.functionName)
    assert.equal("$LATEST", ctx.functionVersion)
    assert.equal(256, ctx.memoryLimitInMB)
    assert.equal(math.type(ctx.memoryLimitInMB), "integer")
    assert.equal("/aws/lambda/fn", ctx.logGroupName)
    assert.equal("2026/11/30/[$LATEST]abc", ctx.logStreamName)
    assert.same({cognitoIdentityId = "id-1", cognitoIdentityPoolId = "pool"}, ctx.identity)
    assert.equal("v", ctx.clientContext.custom.k)
  end)

  it("counts the remaining time down to the deadline, never below zero, with . or :", function()
    local now = 1000000000
    local ctx = lambda.context(headers, getenv, function() return now end)
    assert.equal(500, ctx.getRemainingTimeInMillis())
    now = now + 120.7
    assert.equal(379, ctx:getRemainingTimeInMillis())
    now = now + 10000
    assert.equal(0, ctx.getRemainingTimeInMillis())
  end)

  it("leaves identity and clientContext nil when absent or not JSON", function()
    local ctx = lambda.context({["lambda-runtime-aws-request-id"] = "r",
      ["lambda-runtime-client-context"] = "{not json"}, getenv)
    assert.is_nil(ctx.identity)
    assert.is_nil(ctx.clientContext)
    assert.is_nil(ctx.getRemainingTimeInMillis())
  end)

  it("reads the wall clock in epoch milliseconds", function()
    local ms = lambda.wall_ms()
    assert.is_true(math.abs(ms - os.time() * 1000) < 2000, tostring(ms))
    assert.is_true(lambda.wall_ms() >= ms)
  end)
end)

describe("lambda handler resolution", function()
  local root
  setup(function()
    root = support.tmpdir()
    os.execute("mkdir -p " .. support.quote(root .. "/lib"))
    support.write(root .. "/good.lua", "return {handler = function() return 'ok' end, value = 3}")
    support.write(root .. "/lib/jobs.lua", "return {run = function() return 'jobs' end}")
    support.write(root .. "/broken.lua", "return {")
    support.write(root .. "/raises.lua", "error({code = 'Setup', message = 'no table'})")
  end)
  teardown(function() support.remove_tmpdirs() end)

  it("finds module.function under the task root, with dots or slashes for folders", function()
    assert.equal("ok", lambda.load_handler("good.handler", root)())
    assert.equal("jobs", lambda.load_handler("lib/jobs.run", root)())
    assert.equal("jobs", lambda.load_handler("lib.jobs.run", root)())
  end)

  local cases = {
    {"nohandler", "Runtime.MalformedHandlerName", "Bad handler 'nohandler'"},
    {"../good.handler", "Runtime.MalformedHandlerName", "Bad handler"},
    {nil, "Runtime.MalformedHandlerName", "Bad handler 'nil'"},
    {"missing.handler", "Runtime.ImportModuleError", "Cannot find module 'missing'"},
    {"broken.handler", "Runtime.ImportModuleError", "broken.lua"},
    {"raises.handler", "Runtime.ImportModuleError", "no table"},
    {"good.nothere", "Runtime.HandlerNotFound", "good.nothere is undefined"},
    {"good.value", "Runtime.HandlerNotFound", "not a function"},
  }
  for _, case in ipairs(cases) do
    it(("reports %s as %s"):format(tostring(case[1]), case[2]), function()
      local fn, doc = lambda.load_handler(case[1], root)
      assert.is_nil(fn)
      assert.equal(case[2], doc.errorType)
      assert.matches(case[3], doc.errorMessage, 1, true)
      assert.matches("^%[.*%]$", core.json_encode(doc.stackTrace))
    end)
  end
end)

describe("lambda handler forms", function()
  local ctx = {awsRequestId = "r"}

  local function outcome(fn, event)
    return support.settle(lambda.invoke(fn, event or {}, ctx))
  end

  it("callback(nil, result) fulfils, later calls are ignored", function()
    local state, value = outcome(function(_, _, callback)
      AWS.util.delay(1):next(function() callback(nil, "first"); callback("late error") end)
    end)
    assert.equal("fulfilled", state)
    assert.equal("first", value)
  end)

  it("callback(err) rejects with err", function()
    local state, value = outcome(function(_, _, callback) callback({code = "Bad", message = "m"}) end)
    assert.equal("rejected", state)
    assert.equal("Bad", value.code)
  end)

  it("a returned promise is waited for, ours or a dependency's", function()
    local state, value = outcome(function(event) return AWS.util.delay(1):next(function() return event.x * 2 end) end, {x = 21})
    assert.equal("fulfilled", state)
    assert.equal(42, value)
    local Mini = require "support.mini_promise"
    state, value = outcome(function() return Mini.new(function(_, reject) reject("mini says no") end) end)
    assert.equal("rejected", state)
    assert.equal("mini says no", value)
  end)

  it("a plain returned value is the result, nil too when the function takes no callback", function()
    local state, value = outcome(function(event, context) return {event.k, context.awsRequestId} end, {k = "v"})
    assert.equal("fulfilled", state)
    assert.same({"v", "r"}, value)
    state, value = outcome(function() end)
    assert.equal("fulfilled", state)
    assert.is_nil(value)
  end)

  it("a function that takes a callback and returns nil is waited for", function()
    local settled = false
    local p = lambda.invoke(function(_, _, callback) ctx.later = callback end, {}, ctx)
    p:next(function() settled = true end)
    AWS.run()
    assert.is_false(settled)
    ctx.later(nil, "done")
    assert.equal("done", p:await())
  end)

  it("a raised error rejects, with the handler's frames as its stack trace", function()
    local function failing_handler() error("kaput") end
    local state, fault = outcome(failing_handler)
    assert.equal("rejected", state)
    local doc = lambda.error_document(fault)
    assert.equal("Error", doc.errorType)
    assert.matches("kaput", doc.errorMessage)
    local trace = table.concat(doc.stackTrace, "\n")
    assert.matches("lambda_spec.lua:%d+", trace)
    assert.not_matches("awspromise/lambda", trace)
  end)
end)

describe("lambda error document", function()
  it("takes errorType from errorType, code or name and the message from errorMessage or message", function()
    assert.same({errorType = "T", errorMessage = "m", stackTrace = {}},
      lambda.error_document({errorType = "T", errorMessage = "m", code = "C"}))
    local err = setmetatable({code = "ResourceNotFoundException", message = "no table"}, core.error_metatable)
    local doc = lambda.error_document(err)
    assert.equal("ResourceNotFoundException", doc.errorType)
    assert.equal("no table", doc.errorMessage)
    assert.equal("Named", lambda.error_document({name = "Named", message = "x"}).errorType)
  end)

  it("makes any other value an Error with its text", function()
    local doc = lambda.error_document("plain")
    assert.equal("Error", doc.errorType)
    assert.equal("plain", doc.errorMessage)
    assert.equal('{"errorMessage":"42","errorType":"Error","stackTrace":[]}', core.json_encode(lambda.error_document(42)))
  end)
end)

describe("lambda CA bundle", function()
  local function env_of(t) return function(name) return t[name] end end
  local function files(t) return function(path) return t[path] == true end end

  it("prefers AWS_CA_BUNDLE, then keeps libcurl's Debian default, else Amazon Linux's bundle", function()
    local al2023 = files({["/etc/pki/tls/certs/ca-bundle.crt"] = true})
    assert.equal("/my/ca.pem", lambda.ca_bundle(env_of({AWS_CA_BUNDLE = "/my/ca.pem"}), al2023))
    assert.equal("/etc/pki/tls/certs/ca-bundle.crt", lambda.ca_bundle(env_of({}), al2023))
    assert.is_nil(lambda.ca_bundle(env_of({}), files({["/etc/ssl/certs/ca-certificates.crt"] = true,
      ["/etc/pki/tls/certs/ca-bundle.crt"] = true})))
    assert.is_nil(lambda.ca_bundle(env_of({}), files({})))
  end)
end)
