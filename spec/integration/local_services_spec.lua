-- The local-services infrastructure itself (tools/local-aws, tools/sigv4_front.py,
-- tools/ec2_fixture.py, spec/support/local_aws.lua), with plain signed HTTP from core.http: the
-- SigV4 front is in the path and refuses what it must, each backend answers in its protocol, HTTPS
-- verifies against the test CA, and servers do not outlive the process that started them.
require "awspromise" -- p:await()
local core = require "awspromise.core"
local local_aws = require "support.local_aws"

local aws
local TIMEOUT = 15000

local function http(opts)
  opts.headers = opts.headers or {}
  opts.timeout = opts.timeout or TIMEOUT
  opts.proxy = ""
  local p = core.http(opts)
  return p:await()
end

-- The promise's rejection (a transport error) instead of raising it.
local function http_error(opts)
  local ok, err = pcall(http, opts)
  assert.is_false(ok, "the request should have failed")
  return err
end

local function with_secret(sign, secret)
  local s = {}
  for k, v in pairs(sign) do s[k] = v end
  s.secretAccessKey = secret
  return s
end

local function read(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("a")
  f:close()
  return s
end

-- Whether the front logged a line containing text (waiting a little: it logs after answering).
local function front_logged(text)
  for _ = 1, 20 do
    if read(aws.statedir .. "/front.log"):find(text, 1, true) then return true end
    os.execute("sleep 0.05")
  end
  return false
end

local function list_tables(endpoint, sign, extra)
  local opts = {method = "POST", url = endpoint .. "/", body = "{}", sign = sign,
    headers = {["X-Amz-Target"] = "DynamoDB_20120810.ListTables", ["Content-Type"] = "application/x-amz-json-1.0"}}
  for k, v in pairs(extra or {}) do opts[k] = v end
  return http(opts)
end

local function describe_instances(sign, form)
  return http {method = "POST", url = aws.env.AWS_ENDPOINT_URL_EC2 .. "/", sign = sign,
    headers = {["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"},
    body = "Action=DescribeInstances&Version=2016-11-15" .. (form or "")}
end

describe("local AWS services", function()
  setup(function()
    aws = local_aws.get()
  end)

  describe("start", function()
    it("publishes loopback endpoints, credentials and the test CA", function()
      local env = aws.env
      for _, name in ipairs {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_EC2"} do
        assert.matches("^http://127%.0%.0%.1:%d+$", env[name], 1, false, name)
      end
      for _, name in ipairs {"AWSPROMISE_TEST_HTTPS_S3", "AWSPROMISE_TEST_HTTPS_DYNAMODB",
        "AWSPROMISE_TEST_HTTPS_EC2", "AWSPROMISE_TEST_UNTRUSTED_HTTPS"} do
        assert.matches("^https://127%.0%.0%.1:%d+$", env[name], 1, false, name)
      end
      assert.equal("us-east-1", env.AWS_REGION)
      assert.matches("^AKIA[A-Z0-9]+$", env.AWS_ACCESS_KEY_ID)
      assert.equal(40, #env.AWS_SECRET_ACCESS_KEY)
      assert.matches("BEGIN CERTIFICATE", read(env.AWSPROMISE_TEST_CA))
      -- Every listener its own port.
      local seen = {}
      for name, value in pairs(env) do
        local port = value:match("^https?://127%.0%.0%.1:(%d+)$")
        if port then
          assert.is_nil(seen[port], name .. " shares a port with " .. tostring(seen[port]))
          seen[port] = name
        end
      end
    end)

    it("is started once per run: a second get() returns the same services", function()
      assert.equal(aws, local_aws.get())
    end)
  end)

  describe("S3 (s3rver) behind the front", function()
    it("answers a correctly signed ListBuckets with 200", function()
      local res = http {method = "GET", url = aws.env.AWS_ENDPOINT_URL_S3 .. "/", sign = aws.sign("s3")}
      assert.equal(200, res.statusCode)
      assert.matches("<ListAllMyBucketsResult", res.body, 1, true)
    end)

    it("refuses the same request signed with a wrong secret: 403 SignatureDoesNotMatch from the front", function()
      local res = http {method = "GET", url = aws.env.AWS_ENDPOINT_URL_S3 .. "/",
        sign = with_secret(aws.sign("s3"), "wrong" .. aws.env.AWS_SECRET_ACCESS_KEY:sub(6))}
      assert.equal(403, res.statusCode)
      assert.matches("<Code>SignatureDoesNotMatch</Code>", res.body, 1, true)
      assert.matches("<CanonicalRequest>GET\n/\n", res.body, 1, true)
      assert.truthy(res.headers["x-amz-request-id"])
      -- It is the front that said so, and logged why.
      assert.is_true(front_logged("s3_http GET / 403 mismatch"), "no mismatch line in the front's log")
    end)

    it("refuses an unsigned request and an unknown access key", function()
      local res = http {method = "GET", url = aws.env.AWS_ENDPOINT_URL_S3 .. "/"}
      assert.equal(403, res.statusCode)
      assert.matches("<Code>AccessDenied</Code>", res.body, 1, true)
      local sign = aws.sign("s3")
      sign.accessKeyId = "AKIAUNKNOWNKEY000000"
      res = http {method = "GET", url = aws.env.AWS_ENDPOINT_URL_S3 .. "/", sign = sign}
      assert.equal(403, res.statusCode)
      assert.matches("<Code>InvalidAccessKeyId</Code>", res.body, 1, true)
    end)

    it("refuses a request signed 20 minutes in the past: RequestTimeTooSkewed", function()
      local sign = aws.sign("s3")
      sign.timeOffset = -1200
      local res = http {method = "GET", url = aws.env.AWS_ENDPOINT_URL_S3 .. "/", sign = sign}
      assert.equal(403, res.statusCode)
      assert.matches("<Code>RequestTimeTooSkewed</Code>", res.body, 1, true)
      assert.truthy(res.headers["date"], "the answer carries the server's Date for clock-skew correction")
    end)

    it("forwards bodies, query strings and encoded keys unchanged (put, list, get, head)", function()
      local s3 = aws.env.AWS_ENDPOINT_URL_S3
      local sign = aws.sign("s3")
      local bucket = "local-services-" .. os.time()
      assert.equal(200, http {method = "PUT", url = s3 .. "/" .. bucket, sign = sign}.statusCode)
      local key = "dir/a b+c~$" .. "\u{e9}"
      local path = "/" .. bucket .. "/" .. key:gsub("[^%w%-%._~/]", function(c)
        return ("%%%02X"):format(c:byte())
      end)
      local body = ("0123456789abcdef"):rep(4096) -- 64 KiB
      local res = http {method = "PUT", url = s3 .. path, body = body, sign = sign,
        headers = {["Content-Type"] = "application/octet-stream", ["x-amz-meta-origin"] = "local services spec"}}
      assert.equal(200, res.statusCode)
      res = http {method = "GET", url = s3 .. "/" .. bucket .. "?list-type=2&prefix=dir%2Fa%20b&delimiter=%2F",
        sign = sign}
      assert.equal(200, res.statusCode)
      assert.matches("<Key>dir/a b+c~$\u{e9}</Key>", res.body, 1, true)
      res = http {method = "GET", url = s3 .. path, sign = sign}
      assert.equal(200, res.statusCode)
      assert.equal(body, res.body)
      assert.equal("local services spec", res.headers["x-amz-meta-origin"])
      res = http {method = "HEAD", url = s3 .. path, sign = sign}
      assert.equal(200, res.statusCode)
      assert.equal(tostring(#body), res.headers["content-length"])
      assert.equal("", res.body)
    end)

    it("survives 500 concurrent signed PUTs from one client", function()
      local AWS = require "awspromise"
      local s3 = aws.env.AWS_ENDPOINT_URL_S3
      local sign = aws.sign("s3")
      local bucket = "local-services-many-" .. os.time()
      assert.equal(200, http {method = "PUT", url = s3 .. "/" .. bucket, sign = sign}.statusCode)
      local n = os.getenv("AWSPROMISE_UNDER_VALGRIND") and 100 or 500
      local promises = {}
      for i = 1, n do
        promises[i] = core.http {method = "PUT", url = ("%s/%s/k%03d"):format(s3, bucket, i), sign = sign,
          body = ("v"):rep(i), timeout = 60000, proxy = "", headers = {}}
      end
      local results = AWS.Promise.all(promises):await()
      assert.equal(n, #results)
      local failed = {}
      for i, r in ipairs(results) do
        if r.statusCode ~= 200 then failed[#failed + 1] = i .. ":" .. r.statusCode end
      end
      assert.same({}, failed)
      local res = http {method = "GET", url = ("%s/%s/k%03d"):format(s3, bucket, n // 2), sign = sign}
      assert.equal(("v"):rep(n // 2), res.body)
    end)
  end)

  describe("DynamoDB (dynalite) behind the front", function()
    it("answers a signed ListTables", function()
      local res = list_tables(aws.env.AWS_ENDPOINT_URL_DYNAMODB, aws.sign("dynamodb"))
      assert.equal(200, res.statusCode)
      local data = core.json_decode(res.body)
      assert.is_table(data.TableNames)
    end)

    it("refuses a wrong secret with 400 InvalidSignatureException in JSON 1.0", function()
      local res = list_tables(aws.env.AWS_ENDPOINT_URL_DYNAMODB, with_secret(aws.sign("dynamodb"), "nope"))
      assert.equal(400, res.statusCode)
      local data = core.json_decode(res.body)
      assert.equal("com.amazon.coral.service#InvalidSignatureException", data.__type)
      assert.matches("signature we calculated does not match", data.message, 1, true)
    end)

    it("refuses an unsigned request and a signature for another service", function()
      local res = list_tables(aws.env.AWS_ENDPOINT_URL_DYNAMODB, nil)
      assert.equal(400, res.statusCode)
      assert.equal("com.amazon.coral.service#MissingAuthenticationTokenException",
        core.json_decode(res.body).__type)
      res = list_tables(aws.env.AWS_ENDPOINT_URL_DYNAMODB, aws.sign("s3"))
      assert.equal(400, res.statusCode)
      assert.matches("scoped to correct service", core.json_decode(res.body).message, 1, true)
    end)
  end)

  describe("EC2 (the fixture) behind the front", function()
    it("answers a signed DescribeInstances form POST with the fixture's XML", function()
      local res = describe_instances(aws.sign("ec2"))
      assert.equal(200, res.statusCode)
      assert.matches('<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">', res.body, 1,
        true)
      assert.matches("<requestId>[%x-]+</requestId>", res.body)
      assert.matches("<instanceId>i%-%x+</instanceId>", res.body)
    end)

    it("applies filters and pages with MaxResults / NextToken", function()
      local res = describe_instances(aws.sign("ec2"),
        "&Filter.1.Name=instance-state-name&Filter.1.Value.1=stopped")
      assert.equal(200, res.statusCode)
      assert.matches("<name>stopped</name>", res.body, 1, true)
      assert.not_matches("<name>running</name>", res.body, 1, true)
      local ids, token, pages = {}, nil, 0
      repeat
        res = describe_instances(aws.sign("ec2"), "&MaxResults=5" .. (token and "&NextToken=" .. token or ""))
        assert.equal(200, res.statusCode)
        for id in res.body:gmatch("<instanceId>(i%-%x+)</instanceId>") do
          assert.is_nil(ids[id], "instance seen twice: " .. id)
          ids[id] = true
        end
        token = res.body:match("<nextToken>([^<]+)</nextToken>")
        pages = pages + 1
      until not token or pages > 20
      assert.is_nil(token)
      local n = 0
      for _ in pairs(ids) do n = n + 1 end
      assert.is_true(n >= 5)
      assert.is_true(pages >= 2, "the seeded instances need more than one page of 5")
    end)

    it("runs and terminates instances in its little state", function()
      local function call(form)
        return http {method = "POST", url = aws.env.AWS_ENDPOINT_URL_EC2 .. "/", sign = aws.sign("ec2"),
          headers = {["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"},
          body = "Version=2016-11-15&" .. form}
      end
      local tag = "spec-" .. os.time()
      local res = call("Action=RunInstances&ImageId=ami-0abcdef1234567890&InstanceType=t3.nano&MinCount=2&MaxCount=2"
        .. "&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name"
        .. "&TagSpecification.1.Tag.1.Value=" .. tag)
      assert.equal(200, res.statusCode)
      assert.matches("<RunInstancesResponse", res.body, 1, true)
      local ids = {}
      for id in res.body:gmatch("<instanceId>(i%-%x+)</instanceId>") do ids[#ids + 1] = id end
      assert.equal(2, #ids)
      res = call("Action=DescribeInstances&Filter.1.Name=tag:Name&Filter.1.Value.1=" .. tag
        .. "&Filter.2.Name=instance-type&Filter.2.Value.1=t3.nano")
      assert.equal(200, res.statusCode)
      assert.equal(2, select(2, res.body:gsub("<instanceId>", "")))
      assert.matches("<name>running</name>", res.body, 1, true)
      res = call("Action=TerminateInstances&InstanceId.1=" .. ids[1])
      assert.equal(200, res.statusCode)
      assert.matches("<currentState><code>48</code><name>terminated</name></currentState>", res.body, 1, true)
      res = call("Action=DescribeInstances&InstanceId.1=" .. ids[1])
      assert.matches("<name>terminated</name>", res.body, 1, true)
      res = call("Action=RunInstances&InstanceType=t3.nano&MinCount=1&MaxCount=1")
      assert.equal(400, res.statusCode)
      assert.matches("<Code>MissingParameter</Code>", res.body, 1, true)
      res = call("Action=RebootTheWorld")
      assert.equal(400, res.statusCode)
      assert.matches("<Code>InvalidAction</Code>", res.body, 1, true)
      res = call("Action=DescribeInstances&Filter.1.Name=no-such-filter&Filter.1.Value.1=x")
      assert.equal(400, res.statusCode)
      assert.matches("<Code>InvalidParameterValue</Code>", res.body, 1, true)
    end)

    it("answers EC2 error XML: InvalidInstanceID.NotFound with 400", function()
      local res = describe_instances(aws.sign("ec2"), "&InstanceId.1=i-00000000000000000")
      assert.equal(400, res.statusCode)
      assert.matches("<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>", res.body, 1, true)
      assert.matches("<RequestID>[%x-]+</RequestID>", res.body)
    end)

    it("refuses a wrong secret with 403 SignatureDoesNotMatch and an unsigned request with 401", function()
      local res = describe_instances(with_secret(aws.sign("ec2"), "wrong"))
      assert.equal(403, res.statusCode)
      assert.matches("<Code>SignatureDoesNotMatch</Code>", res.body, 1, true)
      res = describe_instances(nil)
      assert.equal(401, res.statusCode)
      assert.matches("<Code>AuthFailure</Code>", res.body, 1, true)
    end)
  end)

  describe("HTTPS", function()
    it("works with verification on against the test CA (caFile)", function()
      local res = http {method = "GET", url = aws.env.AWSPROMISE_TEST_HTTPS_S3 .. "/", sign = aws.sign("s3"),
        caFile = aws.env.AWSPROMISE_TEST_CA}
      assert.equal(200, res.statusCode)
      assert.matches("<ListAllMyBucketsResult", res.body, 1, true)
      res = list_tables(aws.env.AWSPROMISE_TEST_HTTPS_DYNAMODB, aws.sign("dynamodb"),
        {caFile = aws.env.AWSPROMISE_TEST_CA})
      assert.equal(200, res.statusCode)
    end)

    it("still checks signatures over HTTPS", function()
      local res = http {method = "GET", url = aws.env.AWSPROMISE_TEST_HTTPS_S3 .. "/",
        sign = with_secret(aws.sign("s3"), "wrong"), caFile = aws.env.AWSPROMISE_TEST_CA}
      assert.equal(403, res.statusCode)
      assert.matches("<Code>SignatureDoesNotMatch</Code>", res.body, 1, true)
    end)

    it("refuses the test CA's certificate without caFile (verification is on by default)", function()
      local err = http_error {method = "GET", url = aws.env.AWSPROMISE_TEST_HTTPS_S3 .. "/", sign = aws.sign("s3")}
      assert.equal("NetworkingError", err.code)
    end)

    it("refuses a certificate from another CA even with caFile", function()
      local err = http_error {method = "GET", url = aws.env.AWSPROMISE_TEST_UNTRUSTED_HTTPS .. "/",
        sign = aws.sign("s3"), caFile = aws.env.AWSPROMISE_TEST_CA}
      assert.equal("NetworkingError", err.code)
      assert.matches("certificate", err.message)
      assert.is_true(front_logged("untrusted_https TLS handshake failed"), "no handshake failure in the front's log")
    end)
  end)

  describe("tools/local-aws", function()
    local root = require("support.loop").repo_root()
    local tool = root .. "/tools/local-aws"

    local function sh(cmd)
      local p = assert(io.popen("env -u LD_PRELOAD " .. cmd .. " 2>&1"))
      local out = p:read("a")
      local ok = p:close()
      return ok == true, out
    end

    local function alive(pid)
      local f = io.open("/proc/" .. pid .. "/stat", "r")
      if not f then return false end
      local stat = f:read("a")
      f:close()
      return not stat:match("^%d+ %b() [ZX]")
    end

    local function wait_gone(pids, seconds)
      local deadline = os.time() + seconds
      repeat
        local any = false
        for _, pid in ipairs(pids) do
          if alive(pid) then any = true end
        end
        if not any then return true end
        os.execute("sleep 0.1")
      until os.time() > deadline
      return false
    end

    it("stops every server soon after the --parent process dies, and stop is then harmless twice", function()
      local _, dir = sh("mktemp -d /tmp/awspromise-local-aws-spec.XXXXXX")
      dir = dir:gsub("%s+$", "")
      local _, out = sh("sh -c 'sleep 60 >/dev/null 2>&1 & echo $!'")
      local parent = assert(tonumber(out:match("%d+")))
      local ok, started = sh(("bash %s start %s --parent %d"):format(tool, dir, parent))
      assert(ok, started)
      local pids = {tonumber(read(dir .. "/supervisor.pid"):match("%d+"))}
      for pid in read(dir .. "/pids"):gmatch("%S+ (%d+)") do pids[#pids + 1] = tonumber(pid) end
      assert.equal(5, #pids) -- supervisor, s3rver, dynalite, ec2, front
      for _, pid in ipairs(pids) do assert.is_true(alive(pid), "pid " .. pid .. " should run") end
      os.execute("kill " .. parent)
      assert.is_true(wait_gone(pids, 5), "servers still running after their parent died")
      local ok1, out1 = sh(("bash %s stop %s"):format(tool, dir))
      local ok2, out2 = sh(("bash %s stop %s"):format(tool, dir))
      assert.is_true(ok1, out1)
      assert.is_true(ok2, out2)
      assert.matches("not running", out2)
      os.execute("rm -rf '" .. dir .. "'")
    end)

    it("names what is missing when it cannot start", function()
      local ok, out = sh(("LOCAL_AWS_NODE_MODULES=/nonexistent bash %s start /tmp/awspromise-local-aws-never"):format(tool))
      assert.is_false(ok)
      assert.matches("npm package s3rver", out, 1, true)
      assert.matches("npm package dynalite", out, 1, true)
      assert.matches("tools/setup-deps", out, 1, true)
      ok, out = sh(("bash %s start /tmp/awspromise-local-aws-never --parent 999999999"):format(tool))
      assert.is_false(ok)
      assert.matches("parent process 999999999 is not running", out, 1, true)
    end)
  end)
end)
