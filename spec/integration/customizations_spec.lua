-- The service customizations (JavaScript SDK v2's lib/services/*.js): each one's wire request or
-- check, against a recording endpoint (spec/support/fault_server.py /record), with tokens and
-- signatures verified by botocore and openssl.
local AWS = require "awspromise"
local core = require "awspromise.core"
local support = require "support.loop"

local recorder
local CREDS = {accessKeyId = "AKIDEXAMPLE", secretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}

setup(function() recorder = require("support.recorder").start() end)
teardown(function() recorder.stop() end)

local function client(class, key, extra)
  local options = {region = "us-east-1", credentials = CREDS, maxRetries = 0,
    endpoint = key and recorder.endpoint(key) or nil}
  for k, v in pairs(extra or {}) do options[k] = v end
  return AWS[class](options)
end

-- The reply of key: a body of the given content type.
local function typed_reply(key, content_type, body, status)
  recorder.reply(key, {status = status or 200, headers = {["Content-Type"] = content_type}, body = body})
end

local function json_reply(key, value, status)
  recorder.reply(key, {status = status or 200, headers = {["Content-Type"] = "application/x-amz-json-1.0"},
    body = core.json_encode(value)})
end

local function query_of(text)
  local out = {}
  for name, value in text:gmatch("([^&=]+)=([^&]*)") do
    out[name] = value:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  end
  return out
end

local function capture(command)
  local p = io.popen("env -u LD_PRELOAD " .. command .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

local function md5(s) return core.crypto.md5(s, "hex") end

describe("SQS", function()
  it("sends to the QueueUrl's host and accepts replies whose MD5s match", function()
    local key = recorder.key("sqs")
    recorder.record_root(key)
    local attrs = {color = {DataType = "String", StringValue = "blue"}, raw = {DataType = "Binary", BinaryValue = "\0\1"}}
    json_reply(key, {MessageId = "m1", MD5OfMessageBody = md5("hello"),
      MD5OfMessageAttributes = require("awspromise.customizations.sqs").attributesMd5(attrs)})
    -- the client's own endpoint is a closed port: only the QueueUrl can be reached
    local sqs = client("SQS", nil, {endpoint = "http://127.0.0.1:" .. require("support.servers").closed_port()})
    local data = sqs:sendMessage({QueueUrl = recorder.server.url .. "/123456789012/q", MessageBody = "hello",
      MessageAttributes = attrs}):promise():await()
    assert.equal("m1", data.MessageId)
    local sent = recorder.last(key)
    assert.equal("/", sent.path)
    assert.equal("AmazonSQS.SendMessage", sent.headers["x-amz-target"])
  end)

  it("the attributes digest is the one SQS documents", function()
    -- a fixed example: 4-byte lengths, names in order, transport byte 1 for text
    local expected = md5(string.pack(">s4>s4", "a", "String") .. "\1" .. string.pack(">s4", "x"))
    assert.equal(expected, require("awspromise.customizations.sqs").attributesMd5({a = {DataType = "String", StringValue = "x"}}))
  end)

  it("rejects a sendMessage reply whose body MD5 differs, naming the message", function()
    local key = recorder.key("sqsbad")
    json_reply(key, {MessageId = "m2", MD5OfMessageBody = md5("something else")})
    local state, err = support.settle(client("SQS", key):sendMessage({QueueUrl = recorder.endpoint(key),
      MessageBody = "hello"}):promise())
    assert.equal("rejected", state)
    assert.equal("InvalidChecksum", err.code)
    assert.matches("SendMessage returned an invalid MD5 response", err.message)
    assert.same({"m2"}, err.messageIds)
  end)

  it("rejects received messages and batch entries whose MD5s differ", function()
    local key = recorder.key("sqsrecv")
    json_reply(key, {Messages = {
      {MessageId = "ok", Body = "a", MD5OfBody = md5("a")},
      {MessageId = "bad", Body = "b", MD5OfBody = md5("not b")},
    }})
    local state, err = support.settle(client("SQS", key):receiveMessage({QueueUrl = recorder.endpoint(key)}):promise())
    assert.equal("rejected", state)
    assert.same({"bad"}, err.messageIds)

    local batch = recorder.key("sqsbatch")
    json_reply(batch, {Successful = {{Id = "1", MessageId = "m1", MD5OfMessageBody = md5("one")},
      {Id = "2", MessageId = "m2", MD5OfMessageBody = md5("two"), MD5OfMessageAttributes = md5("wrong")}}, Failed = {}})
    state, err = support.settle(client("SQS", batch):sendMessageBatch({QueueUrl = recorder.endpoint(batch), Entries = {
      {Id = "1", MessageBody = "one"},
      {Id = "2", MessageBody = "two", MessageAttributes = {k = {DataType = "String", StringValue = "v"}}},
    }}):promise())
    assert.equal("rejected", state)
    assert.matches("Invalid messages: 2$", err.message)

    local off = recorder.key("sqsoff")
    json_reply(off, {MessageId = "m3", MD5OfMessageBody = md5("nope")})
    local data = client("SQS", off, {computeChecksums = false}):sendMessage({QueueUrl = recorder.endpoint(off),
      MessageBody = "x"}):promise():await()
    assert.equal("m3", data.MessageId)
  end)
end)

describe("Route 53", function()
  it("sends Ids without their /hostedzone/, /change/ and /delegationset/ prefixes", function()
    local key = recorder.key("r53")
    local r53 = client("Route53", key)
    local params = {Id = "/hostedzone/Z1"}
    support.settle(r53:getHostedZone(params):promise())
    support.settle(r53:getChange({Id = "/change/C2"}):promise())
    support.settle(r53:getReusableDelegationSet({Id = "/delegationset/N3"}):promise())
    local sent = recorder.requests(key)
    assert.equal("/record/" .. key .. "/2013-04-01/hostedzone/Z1", sent[1].path)
    assert.equal("/record/" .. key .. "/2013-04-01/change/C2", sent[2].path)
    assert.equal("/record/" .. key .. "/2013-04-01/delegationset/N3", sent[3].path)
    assert.equal("/hostedzone/Z1", params.Id, "the caller's params are left alone")
  end)
end)

describe("STS", function()
  it("assumeRoleWithWebIdentity and assumeRoleWithSAML need no credentials and are unsigned", function()
    local key = recorder.key("sts")
    typed_reply(key, "text/xml", [[<AssumeRoleWithWebIdentityResponse>
<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>AK</AccessKeyId><SecretAccessKey>SK</SecretAccessKey>
<SessionToken>ST</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>]])
    local no_credentials = function() error("no credentials are configured") end
    local sts = client("STS", key, {credentials = no_credentials})
    local data = sts:assumeRoleWithWebIdentity({RoleArn = "arn:aws:iam::123456789012:role/r",
      RoleSessionName = "s", WebIdentityToken = "token"}):promise():await()
    assert.equal("AK", data.Credentials.AccessKeyId)
    local sent = recorder.last(key)
    assert.is_nil(sent.headers.authorization)
    assert.matches("Action=AssumeRoleWithWebIdentity", sent.body)
    support.settle(sts:assumeRoleWithSAML({RoleArn = "arn:aws:iam::1:role/r", PrincipalArn = "arn:aws:iam::1:saml-provider/p",
      SAMLAssertion = "x"}):promise())
    assert.is_nil(recorder.last(key).headers.authorization)
    assert.matches("Action=AssumeRoleWithSAML", recorder.last(key).body)
    -- and other operations still need credentials
    local state, err = support.settle(sts:getCallerIdentity():promise())
    assert.equal("rejected", state)
    assert.matches("no credentials are configured", tostring(err.message or err))
  end)
end)

describe("Lambda", function()
  it("invoke sends a string Payload as is and hands the reply's back as a string", function()
    local key = recorder.key("lambda")
    typed_reply(key, "application/json", '{"answer":42}')
    local data = client("Lambda", key):invoke({FunctionName = "f", Payload = '{"q":1}'}):promise():await()
    assert.equal('{"answer":42}', data.Payload)
    assert.equal('{"q":1}', recorder.last(key).body)
    local empty = recorder.key("lambda0")
    recorder.reply(empty, {status = 202, body = ""})
    assert.equal("", client("Lambda", empty):invoke({FunctionName = "f", InvocationType = "Event"}):promise():await().Payload)
  end)
end)

describe("API Gateway", function()
  it("asks for JSON unless an Accept header is given", function()
    local key = recorder.key("apigw")
    typed_reply(key, "application/json", '{"swagger":"2.0"}')
    local data = client("APIGateway", key):getExport({restApiId = "a", stageName = "s", exportType = "swagger"}):promise():await()
    assert.equal('{"swagger":"2.0"}', data.body)
    assert.equal("application/json", recorder.last(key).headers.accept)
    client("APIGateway", key):getExport({restApiId = "a", stageName = "s", exportType = "swagger",
      accepts = "application/yaml"}):promise():await()
    assert.equal("application/yaml", recorder.last(key).headers.accept)
  end)
end)

describe("Glacier", function()
  it("defaults accountId to '-', sends the API version and the linear and tree hashes", function()
    local key = recorder.key("glacier")
    recorder.reply(key, {status = 201, headers = {["x-amz-archive-id"] = "a1"}, body = ""})
    local body = string.rep("x", 1024 * 1024) .. string.rep("y", 1024 * 1024) .. "z"
    client("Glacier", key):uploadArchive({vaultName = "v", body = body}):promise():await()
    local sent = recorder.last(key)
    assert.equal("/record/" .. key .. "/-/vaults/v/archives", sent.path)
    assert.equal("2012-06-01", sent.headers["x-amz-glacier-version"])
    assert.equal(core.crypto.sha256(body, "hex"), sent.headers["x-amz-content-sha256"])
    -- the tree hash of three chunks, computed here by hand: H(H(H1 H2) H3)
    local h = function(s) return core.crypto.sha256(s) end
    local top = h(h(h(string.rep("x", 1024 * 1024)) .. h(string.rep("y", 1024 * 1024))) .. h("z"))
    local hex = top:gsub(".", function(c) return string.format("%02x", c:byte()) end)
    assert.equal(hex, sent.headers["x-amz-sha256-tree-hash"])
  end)
end)

describe("endpoint-required services", function()
  it("IotData and CloudSearchDomain send nothing without an explicit endpoint", function()
    for class, op in pairs {IotData = "getThingShadow", CloudSearchDomain = "search"} do
      local params = class == "IotData" and {thingName = "t"} or {query = "q"}
      local state, err = support.settle(AWS[class]({region = "us-east-1", credentials = CREDS})[op](
        AWS[class]({region = "us-east-1", credentials = CREDS}), params):promise())
      assert.equal("rejected", state, class)
      assert.equal("InvalidEndpoint", err.code)
      assert.matches("AWS." .. class .. " requires an explicit", err.message)
    end
  end)

  it("CloudSearchDomain searches by POST and goes unsigned with credentials = false", function()
    local key = recorder.key("csd")
    typed_reply(key, "application/json", '{"hits":{"found":0}}')
    local csd = client("CloudSearchDomain", key, {credentials = false})
    csd:search({query = "star wars", size = 5}):promise():await()
    local sent = recorder.last(key)
    assert.equal("POST", sent.method)
    assert.matches("q=star%%20wars", sent.body)
    assert.is_nil(sent.headers.authorization)
  end)

  it("CloudSearchDomain goes unsigned when no credentials can be found; other services fail", function()
    local key = recorder.key("csd-anon")
    typed_reply(key, "application/json", '{"hits":{"found":0}}')
    local function without_credentials(class)
      return AWS[class]({region = "us-east-1", maxRetries = 0, endpoint = recorder.endpoint(key),
        credentialProvider = AWS.CredentialProviderChain({})})
    end
    without_credentials("CloudSearchDomain"):search({query = "q"}):promise():await()
    assert.is_nil(recorder.last(key).headers.authorization)
    local state, err = support.settle(without_credentials("SQS"):listQueues({}):promise())
    assert.equal("rejected", state)
    assert.equal("CredentialsError", err.code)
  end)
end)

describe("cross-region presigned URLs", function()
  it("EC2 copySnapshot sends DestinationRegion and a PresignedUrl signed for the source region", function()
    local key = recorder.key("ec2")
    typed_reply(key, "text/xml", "<CopySnapshotResponse><snapshotId>snap-2</snapshotId></CopySnapshotResponse>")
    local data = client("EC2", key):copySnapshot({SourceRegion = "eu-west-1", SourceSnapshotId = "snap-1"}):promise():await()
    assert.equal("snap-2", data.SnapshotId)
    local form = query_of(recorder.last(key).body)
    assert.equal("us-east-1", form.DestinationRegion)
    local url = form.PresignedUrl
    assert.matches("^https://ec2%.eu%-west%-1%.amazonaws%.com/%?", url)
    local q = query_of(url:match("%?(.*)$"))
    assert.equal("CopySnapshot", q.Action)
    assert.equal("snap-1", q.SourceSnapshotId)
    assert.equal("us-east-1", q.DestinationRegion)
    assert.matches("/eu%-west%-1/ec2/aws4_request$", q["X-Amz-Credential"])
    assert.is_string(q["X-Amz-Signature"])
  end)

  it("RDS replaces SourceRegion with a PreSignedUrl (and none when the regions match)", function()
    local key = recorder.key("rds")
    typed_reply(key, "text/xml", "<CopyDBSnapshotResponse><CopyDBSnapshotResult/></CopyDBSnapshotResponse>")
    local rds = client("RDS", key)
    rds:copyDBSnapshot({SourceRegion = "us-west-2", SourceDBSnapshotIdentifier = "arn:aws:rds:us-west-2:1:snapshot:s",
      TargetDBSnapshotIdentifier = "t"}):promise():await()
    local form = query_of(recorder.last(key).body)
    assert.is_nil(form.SourceRegion)
    local q = query_of(form.PreSignedUrl:match("%?(.*)$"))
    assert.equal("CopyDBSnapshot", q.Action)
    assert.equal("us-east-1", q.DestinationRegion)
    assert.matches("/us%-west%-2/rds/aws4_request$", q["X-Amz-Credential"])
    rds:copyDBSnapshot({SourceRegion = "us-east-1", SourceDBSnapshotIdentifier = "s", TargetDBSnapshotIdentifier = "t"}):promise():await()
    assert.is_nil(query_of(recorder.last(key).body).PreSignedUrl)
  end)
end)

describe("AWS.RDS.Signer", function()
  it("makes the auth token botocore's generate_db_auth_token makes", function()
    local signer = AWS.RDS.Signer({region = "us-west-2", hostname = "db.example.com", port = 5432,
      username = "app_user", credentials = CREDS})
    local token = signer:getAuthToken()
    local stamp = query_of(token:match("%?(.*)$"))["X-Amz-Date"]
    local script = ([[
import datetime, sys, types, botocore.auth, botocore.session
fixed = datetime.datetime.strptime(%q, "%%Y%%m%%dT%%H%%M%%SZ")
class Frozen(datetime.datetime):
    @classmethod
    def utcnow(cls): return fixed
botocore.auth.datetime = types.SimpleNamespace(datetime=Frozen)
c = botocore.session.get_session().create_client("rds", region_name="us-west-2",
    aws_access_key_id=%q, aws_secret_access_key=%q)
print(c.generate_db_auth_token("db.example.com", 5432, "app_user"))
]]):format(stamp, CREDS.accessKeyId, CREDS.secretAccessKey)
    local ok, out = capture("/usr/bin/python3 -c " .. support.quote(script))
    assert.is_true(ok, out)
    local theirs = out:gsub("%s+$", "")
    assert.equal(theirs:match("^[^?]*"), token:match("^[^?]*"))
    assert.same(query_of(theirs:match("%?(.*)$")), query_of(token:match("%?(.*)$")))
    local via_callback
    signer:getAuthToken({username = "other"}, function(err, t) via_callback = {err, t} end)
    AWS.run()
    assert.is_nil(via_callback[1])
    assert.equal("other", query_of(via_callback[2]:match("%?(.*)$")).DBUser)
  end)

  it("names a missing option", function()
    local ok, err = pcall(AWS.RDS.Signer({region = "us-east-1", credentials = CREDS}).getAuthToken,
      AWS.RDS.Signer({region = "us-east-1", credentials = CREDS}), {hostname = "h", username = "u"})
    assert.is_false(ok)
    assert.matches("port must be a number", err.message)
  end)
end)

describe("AWS.CloudFront.Signer", function()
  local dir, key_pem

  setup(function()
    dir = support.tmpdir()
    assert(capture(("openssl genrsa -out %s/key.pem 2048 && openssl rsa -in %s/key.pem -pubout -out %s/pub.pem")
      :format(dir, dir, dir)))
    local f = assert(io.open(dir .. "/key.pem"))
    key_pem = f:read("a")
    f:close()
  end)

  local function unsafe(b64)
    return core.crypto.base64_decode((b64:gsub("[-_~]", {["-"] = "+", ["_"] = "=", ["~"] = "/"})))
  end

  local function openssl_verifies(policy, signature)
    support.write(dir .. "/policy", policy)
    support.write(dir .. "/sig", signature)
    local ok, out = capture(("openssl dgst -sha1 -verify %s/pub.pem -signature %s/sig %s/policy"):format(dir, dir, dir))
    return ok == true and out:match("Verified OK") ~= nil, out
  end

  it("signs a canned-policy URL that openssl verifies", function()
    local signer = AWS.CloudFront.Signer("KP123", key_pem)
    local url = signer:getSignedUrl({url = "https://d111.cloudfront.net/a/b.jpg", expires = 1893456000})
    local q = query_of(url:match("%?(.*)$"))
    assert.equal("KP123", q["Key-Pair-Id"])
    assert.equal("1893456000", q.Expires)
    local policy = '{"Statement":[{"Resource":"https://d111.cloudfront.net/a/b.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000}}}]}'
    assert.is_true(openssl_verifies(policy, unsafe(q.Signature)))
    assert.is_false((openssl_verifies(policy .. " ", unsafe(q.Signature))), "a different policy does not verify")
  end)

  it("signs custom-policy URLs and cookies", function()
    local signer = AWS.CloudFront.Signer("KP123", key_pem)
    local policy = '{"Statement":[{"Resource":"https://d111.cloudfront.net/*","Condition":{"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}}}]}'
    local url = signer:getSignedUrl({url = "https://d111.cloudfront.net/x?a=1", policy = policy})
    assert.matches("^https://d111%.cloudfront%.net/x%?a=1&Policy=", url)
    local q = query_of(url:match("%?(.*)$"))
    assert.equal(policy, unsafe(q.Policy))
    assert.is_true(openssl_verifies(policy, unsafe(q.Signature)))
    local cookies = signer:getSignedCookie({policy = policy})
    assert.equal("KP123", cookies["CloudFront-Key-Pair-Id"])
    assert.equal(q.Policy, cookies["CloudFront-Policy"])
    assert.is_true(openssl_verifies(policy, unsafe(cookies["CloudFront-Signature"])))
    local canned = signer:getSignedCookie({url = "https://d111.cloudfront.net/a", expires = 2000000000})
    assert.equal("2000000000", canned["CloudFront-Expires"])
    local ok, err = pcall(AWS.CloudFront.Signer("KP", "not a key").getSignedUrl, AWS.CloudFront.Signer("KP", "not a key"),
      {url = "https://x/", expires = 1})
    assert.is_false(ok)
    assert.matches("not a PEM private key", err.message)
  end)
end)

describe("AWS.Polly.Presigner", function()
  it("presigns a synthesizeSpeech GET for the Polly endpoint", function()
    local presigner = AWS.Polly.Presigner({region = "us-east-1", credentials = CREDS})
    local url = presigner:getSynthesizeSpeechUrl({OutputFormat = "mp3", Text = "Hello world", VoiceId = "Joanna"}, 60)
    local q = query_of(url:match("%?(.*)$"))
    assert.equal("Hello world", q.Text)
    assert.equal("60", q["X-Amz-Expires"])
    assert.matches("/us%-east%-1/polly/aws4_request$", q["X-Amz-Credential"])
    assert.matches("^https://polly%.us%-east%-1%.amazonaws%.com/v1/speech%?", url)
  end)
end)

describe("smaller customizations", function()
  it("S3Control checks AccountId before it becomes a host name", function()
    local state, err = support.settle(client("S3Control", recorder.key("s3c")):listAccessPoints({AccountId = "bad.id"}):promise())
    assert.equal("rejected", state)
    assert.equal("ValidationError", err.code)
    assert.matches("hostname compatible", err.message)
  end)

  it("EventBridge refuses putEvents with an EndpointId", function()
    local state, err = support.settle(client("EventBridge", recorder.key("eb")):putEvents({EndpointId = "e",
      Entries = {{Source = "s", DetailType = "d", Detail = "{}"}}}):promise())
    assert.equal("rejected", state)
    assert.matches("EndpointId is not supported", err.message)
  end)

  it("MachineLearning predict goes to its PredictEndpoint", function()
    local key = recorder.key("ml")
    recorder.record_root(key)
    json_reply(key, {Prediction = {predictedLabel = "1"}})
    local ml = client("MachineLearning", nil, {endpoint = "http://127.0.0.1:" .. require("support.servers").closed_port()})
    local data = ml:predict({MLModelId = "m", Record = {a = "1"}, PredictEndpoint = recorder.server.url}):promise():await()
    assert.equal("1", data.Prediction.predictedLabel)
    assert.equal("AmazonML_20141212.Predict", recorder.last(key).headers["x-amz-target"])
  end)

  it("RDSDataService retries 'Communications link failure'", function()
    local key = recorder.key("rdsdata")
    recorder.reply(key, {status = 400, headers = {["Content-Type"] = "application/json", ["x-amzn-ErrorType"] = "BadRequestException"},
      body = '{"message":"Communications link failure\\n\\nThe last packet..."}'})
    local data_api = client("RDSDataService", key, {maxRetries = 2, retryDelayOptions = {base = 1}})
    local state, err = support.settle(data_api:executeStatement({resourceArn = "r", secretArn = "s", sql = "select 1"}):promise())
    assert.equal("rejected", state)
    assert.equal("BadRequestException", err.code)
    assert.equal(3, #recorder.requests(key), "two retries")
  end)

  it("SWF long polls get at least 70 s however short the client's timeout", function()
    local swf = client("SWF", recorder.key("swf"), {httpOptions = {timeout = 5000}})
    local request = swf:pollForDecisionTask({domain = "d", taskList = {name = "t"}})
    local timeout
    request:on("build", function(req) timeout = req.httpRequest.httpOptions.timeout end)
    request:on("sign", function() error("stop before sending") end)
    support.settle(request:promise())
    assert.equal(require("awspromise.customizations.swf").LONG_POLL_TIMEOUT_MS, timeout)
    assert.equal(5000, swf.config.httpOptions.timeout, "other calls keep the client's timeout")
  end)
end)
