-- The credential provider chain against local fixtures (spec/support/cred_server.py): IMDSv2,
-- container credentials and STS, all on 127.0.0.1. Every chain gets its environment as a table
-- with a temporary HOME, and either points IMDS at the fixture or disables it: nothing here
-- may reach a non-loopback address.
local AWS = require "awspromise"
local credentials = require "awspromise.credentials"
local servers = require "support.servers"
local support = require "support.loop"

local SOURCE_ID, SOURCE_SECRET = "AKIDSOURCE", "source-secret-key-0123456789"

local srv
local tmpdir = support.tmpdir

local write = support.write

local settle = require("support.loop").settle

local function stats() return srv.json("GET", "/_control/stats") end
local function configure(t) srv.json("POST", "/_control/config", t) end

local home
-- A fresh HOME, STS at the fixture, IMDS off, plus `extra`.
local function env(extra)
  local e = {HOME = home, AWS_ENDPOINT_URL_STS = srv.url, AWS_EC2_METADATA_DISABLED = "true"}
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local function imds_env(extra)
  local e = env(extra)
  e.AWS_EC2_METADATA_DISABLED = nil
  e.AWS_EC2_METADATA_SERVICE_ENDPOINT = srv.url
  return e
end

setup(function()
  srv = servers.start("spec/support/cred_server.py")
end)

teardown(function()
  if srv then srv.stop() end
  support.remove_tmpdirs()
end)

before_each(function()
  srv.json("POST", "/_control/reset")
  home = tmpdir()
end)

describe("credentials.parse_time", function()
  it("reads ISO 8601 times as epoch seconds", function()
    assert.equal(0, credentials.parse_time("1970-01-01T00:00:00Z"))
    assert.equal(951782400, credentials.parse_time("2000-02-29T00:00:00Z"))
    assert.equal(1767323045, credentials.parse_time("2026-01-02T03:04:05Z"))
    assert.equal(1767323045, credentials.parse_time("2026-01-02T03:04:05.999Z"))
    assert.equal(1767323045, credentials.parse_time("2026-01-02T05:04:05+02:00"))
    assert.equal(1767323045, credentials.parse_time("2026-01-01T22:04:05-0500"))
    assert.is_nil(credentials.parse_time("yesterday"))
    assert.is_nil(credentials.parse_time("2026-13-01T00:00:00Z"))
  end)

  it("reads only ISO 8601 date-times: no HTTP date, epoch text, bare date, bad zone or trailing text", function()
    for _, text in ipairs {"Fri, 02 Jan 2026 03:04:05 GMT", "1767323045", "2026-01-02", " 2026-01-02T03:04:05Z",
      "2026-01-02T03:04:05+2", "2026-01-02T03:04:05Z later", "2026-01-02T03:04"} do
      local t, why = credentials.parse_time(text)
      assert.is_nil(t, text)
      assert.matches("ISO 8601", why, 1, true)
    end
    assert.equal(1767323045, credentials.parse_time(1767323045)) -- a number is epoch seconds already
    assert.same({nil, "not a string"}, {credentials.parse_time(true)})
    assert.equal("integer", math.type(credentials.parse_time("2026-01-02T03:04:05.5Z")))
  end)
end)

describe("explicit credentials", function()
  it("win over everything else", function()
    local chain = credentials.chain {credentials = {accessKeyId = "EXPLICIT", secretAccessKey = "s", sessionToken = "t"},
      env = env {AWS_ACCESS_KEY_ID = "ENV", AWS_SECRET_ACCESS_KEY = "e"}}
    local state, c = settle(chain:get())
    assert.equal("fulfilled", state)
    assert.equal("EXPLICIT", c.accessKeyId)
    assert.equal("t", c.sessionToken)
    assert.equal("explicit credentials", c.source)
  end)

  it("accept a provider function or object returning a promise, refreshed near expiry", function()
    local calls, clock = 0, 1000000
    local provider = function()
      calls = calls + 1
      return AWS.util.delay(1, {accessKeyId = "P" .. calls, secretAccessKey = "s", expireTime = clock + 600})
    end
    local chain = credentials.chain {credentials = provider, now = function() return clock end}
    assert.equal("P1", select(2, settle(chain:get())).accessKeyId)
    assert.equal("P1", select(2, settle(chain:get())).accessKeyId)
    clock = clock + 301 -- inside the 5-minute window
    assert.equal("P2", select(2, settle(chain:get())).accessKeyId)
    local object = {get = function(self) return {accessKeyId = "OBJ", secretAccessKey = "s", self = self} end}
    assert.equal("OBJ", select(2, settle(credentials.chain {credentials = object}:get())).accessKeyId)
  end)

  it("follow edits of a static table", function()
    local value = {accessKeyId = "FIRST", secretAccessKey = "s"}
    local chain = credentials.chain {credentials = value}
    assert.equal("FIRST", select(2, settle(chain:get())).accessKeyId)
    value.accessKeyId = "SECOND"
    assert.is_nil(chain:peek())
    assert.equal("SECOND", select(2, settle(chain:get())).accessKeyId)
  end)

  it("reject with CredentialsError when incomplete", function()
    local state, err = settle(credentials.chain {credentials = {accessKeyId = "X"}}:get())
    assert.equal("rejected", state)
    assert.equal("CredentialsError", err.code)
    assert.matches("explicit credentials: secretAccessKey is missing", err.message)
  end)

  it("refuse a value that cannot be credentials", function()
    assert.has_error(function() credentials.chain {credentials = 42} end)
  end)
end)

describe("environment provider", function()
  it("reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN before the shared files", function()
    write(home .. "/.aws/credentials", "[default]\naws_access_key_id = FILE\naws_secret_access_key = f\n")
    local state, c = settle(credentials.chain {env = env {AWS_ACCESS_KEY_ID = "ENV", AWS_SECRET_ACCESS_KEY = "e",
      AWS_SESSION_TOKEN = "tok"}}:get())
    assert.equal("fulfilled", state)
    assert.same({"ENV", "e", "tok", "environment"}, {c.accessKeyId, c.secretAccessKey, c.sessionToken, c.source})
  end)

  it("fails on a half-set pair without revealing the secret", function()
    local state, err = settle(credentials.chain {env = env {AWS_SECRET_ACCESS_KEY = "half-set-secret-value"}}:get())
    assert.equal("rejected", state)
    assert.matches("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not", err.message)
    assert.is_nil(tostring(err):find("half-set-secret-value", 1, true))
  end)
end)

describe("shared files provider", function()
  it("reads static keys of the default profile from ~/.aws/credentials", function()
    write(home .. "/.aws/credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = fs\n" ..
      "aws_session_token = ft\n")
    local _, c = settle(credentials.chain {env = env()}:get())
    assert.same({"FILEKEY", "fs", "ft", "shared files"}, {c.accessKeyId, c.secretAccessKey, c.sessionToken, c.source})
  end)

  it("selects the profile from AWS_PROFILE, in either file", function()
    write(home .. "/.aws/config", "[profile dev]\naws_access_key_id = DEVKEY\naws_secret_access_key = d\n")
    local _, c = settle(credentials.chain {env = env {AWS_PROFILE = "dev"}}:get())
    assert.equal("DEVKEY", c.accessKeyId)
    local _, c2 = settle(credentials.chain {env = env(), profile = "dev"}:get())
    assert.equal("DEVKEY", c2.accessKeyId)
  end)

  it("fails when the selected profile does not exist, naming it and the files", function()
    local state, err = settle(credentials.chain {env = env {AWS_PROFILE = "ghost"}}:get())
    assert.equal("rejected", state)
    assert.matches("no profile 'ghost' in .*config %(not found%) and .*credentials %(not found%) " ..
      "%(selected by AWS_PROFILE%)", err.message)
  end)

  it("assumes a role with source_profile, signing AssumeRole with the source keys", function()
    configure {sts_keys = {[SOURCE_ID] = SOURCE_SECRET}, sts_region = "eu-west-1"}
    write(home .. "/.aws/config", "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\n" ..
      "source_profile = base\nrole_session_name = my-session\nexternal_id = ext-1\nregion = eu-west-1\n")
    write(home .. "/.aws/credentials", ("[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"):format(
      SOURCE_ID, SOURCE_SECRET))
    local state, c = settle(credentials.chain {env = env {AWS_PROFILE = "dev"}}:get())
    assert.equal("fulfilled", state, tostring(c))
    assert.matches("^ASIASTS", c.accessKeyId)
    assert.matches("^sts%-token%-", c.sessionToken)
    assert.is_true(math.abs(c.expireTime - (os.time() + 3600)) < 10)
    local s = stats()
    assert.equal(1, s.sts_assume_role)
    assert.is_nil(s.sts_bad_signature)
    assert.equal(SOURCE_ID, s.last_access_key)
    assert.equal("arn:aws:iam::123456789012:role/dev", s.last_role_arn)
    assert.equal("my-session", s.last_session_name)
    assert.equal("ext-1", s.last_external_id)
  end)

  it("chains roles, signing the second AssumeRole with the first one's temporary credentials", function()
    configure {sts_keys = {[SOURCE_ID] = SOURCE_SECRET}}
    write(home .. "/.aws/config", "[profile top]\nrole_arn = arn:aws:iam::1:role/top\nsource_profile = mid\n" ..
      "[profile mid]\nrole_arn = arn:aws:iam::1:role/mid\nsource_profile = base\n")
    write(home .. "/.aws/credentials", ("[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"):format(
      SOURCE_ID, SOURCE_SECRET))
    local state, c = settle(credentials.chain {env = env {AWS_PROFILE = "top", AWS_REGION = "us-west-2"}}:get())
    assert.equal("fulfilled", state, tostring(c))
    local s = stats()
    assert.equal(2, s.sts_assume_role)
    assert.is_nil(s.sts_bad_signature)
    assert.matches("^ASIASTS", s.last_access_key)
    assert.equal("arn:aws:iam::1:role/top", s.last_role_arn)
  end)

  it("answers SignatureDoesNotMatch for a wrong source secret, and does not reveal it", function()
    configure {sts_keys = {[SOURCE_ID] = SOURCE_SECRET}}
    write(home .. "/.aws/config", "[profile dev]\nrole_arn = arn:aws:iam::1:role/dev\nsource_profile = base\n")
    write(home .. "/.aws/credentials", ("[base]\naws_access_key_id = %s\naws_secret_access_key = wrong-secret-123456\n")
      :format(SOURCE_ID))
    local state, err = settle(credentials.chain {env = env {AWS_PROFILE = "dev"}}:get())
    assert.equal("rejected", state)
    assert.equal("CredentialsError", err.code)
    assert.matches("STS AssumeRole %(http://127%.0%.0%.1:%d+/%) failed: HTTP 403 SignatureDoesNotMatch", err.message)
    assert.is_nil(tostring(err):find("wrong-secret-123456", 1, true))
    assert.equal("signature mismatch", stats().last_problem)
  end)

  it("reports STS errors with their code and message", function()
    configure {sts_error = {code = "AccessDenied", message = "not allowed to assume", status = 403}}
    write(home .. "/.aws/config", "[profile dev]\nrole_arn = arn:aws:iam::1:role/dev\nsource_profile = dev\n" ..
      "aws_access_key_id = SELF\naws_secret_access_key = selfsecret\n")
    local _, err = settle(credentials.chain {env = env {AWS_PROFILE = "dev"}}:get())
    assert.matches("HTTP 403 AccessDenied: not allowed to assume", err.message)
  end)

  it("detects source_profile cycles and role_arn without a source", function()
    write(home .. "/.aws/config", "[profile a]\nrole_arn = r\nsource_profile = b\n[profile b]\nrole_arn = r\n" ..
      "source_profile = a\n[profile lone]\nrole_arn = r\n")
    local _, err = settle(credentials.chain {env = env {AWS_PROFILE = "a"}}:get())
    assert.matches("source_profile cycle: a %-> b %-> a", err.message)
    assert.equal(0, stats().sts_assume_role or 0)
    local _, err2 = settle(credentials.chain {env = env {AWS_PROFILE = "lone"}}:get())
    assert.matches("role_arn without source_profile, credential_source or web_identity_token_file", err2.message)
  end)

  it("uses credential_source = Environment as the source of AssumeRole", function()
    configure {sts_keys = {ENVSRC = "env-source-secret"}}
    write(home .. "/.aws/config", "[profile dev]\nrole_arn = arn:aws:iam::1:role/dev\ncredential_source = Environment\n")
    local state, c = settle(credentials.chain {env = env {AWS_PROFILE = "dev", AWS_ACCESS_KEY_ID = "ENVSRC",
      AWS_SECRET_ACCESS_KEY = "env-source-secret"}, providers = {credentials.providers[2]}}:get())
    assert.equal("fulfilled", state, tostring(c))
    assert.equal("ENVSRC", stats().last_access_key)
  end)

  it("runs credential_process and reads its JSON", function()
    local script = write(home .. "/cred.sh", "#!/bin/sh\ncat <<'EOF'\n" ..
      '{"Version": 1, "AccessKeyId": "PROCKEY", "SecretAccessKey": "proc-secret", "SessionToken": "proc-token",' ..
      ' "Expiration": "2099-01-01T00:00:00Z"}\nEOF\n', "+x")
    write(home .. "/.aws/config", "[default]\ncredential_process = " .. script .. " --flag\n")
    local state, c = settle(credentials.chain {env = env()}:get())
    assert.equal("fulfilled", state, tostring(c))
    assert.same({"PROCKEY", "proc-secret", "proc-token"}, {c.accessKeyId, c.secretAccessKey, c.sessionToken})
    assert.equal(credentials.parse_time("2099-01-01T00:00:00Z"), c.expireTime)
  end)

  it("reports a failing or misbehaving credential_process without echoing its output", function()
    write(home .. "/.aws/config", "[profile fails]\ncredential_process = echo broken >&2; exit 2\n" ..
      "[profile v2]\ncredential_process = echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"v2-secret-xyz\"}'\n" ..
      "[profile junk]\ncredential_process = echo 'SecretAccessKey=junk-secret-abc not json'\n")
    local _, e1 = settle(credentials.chain {env = env {AWS_PROFILE = "fails"}}:get())
    assert.matches("credential_process of profile 'fails' exited with status 2: broken", e1.message)
    local _, e2 = settle(credentials.chain {env = env {AWS_PROFILE = "v2"}}:get())
    assert.matches("printed Version 2; only Version 1 is supported", e2.message)
    assert.is_nil(tostring(e2):find("v2-secret-xyz", 1, true))
    local _, e3 = settle(credentials.chain {env = env {AWS_PROFILE = "junk"}}:get())
    assert.matches("printed something that is not a JSON object", e3.message)
    assert.is_nil(tostring(e3):find("junk-secret-abc", 1, true))
  end)

  it("uses web_identity_token_file with role_arn (AssumeRoleWithWebIdentity, unsigned)", function()
    local token = write(home .. "/token", "profile-web-token\n")
    write(home .. "/.aws/config", "[default]\nrole_arn = arn:aws:iam::1:role/web\nweb_identity_token_file = " ..
      token .. "\nrole_session_name = websess\n")
    local state, c = settle(credentials.chain {env = env()}:get())
    assert.equal("fulfilled", state, tostring(c))
    local s = stats()
    assert.equal(1, s.sts_web_identity)
    assert.equal("profile-web-token", s.last_web_identity_token)
    assert.equal("websess", s.last_session_name)
    assert.equal(require("awspromise.core").null, s.last_authorization) -- JSON null: no Authorization
  end)
end)

describe("web identity provider", function()
  it("reads AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN and AWS_ROLE_SESSION_NAME", function()
    configure {web_identity_token = "env-web-token"}
    local token = write(home .. "/wi", "env-web-token")
    local state, c = settle(credentials.chain {env = env {AWS_WEB_IDENTITY_TOKEN_FILE = token,
      AWS_ROLE_ARN = "arn:aws:iam::1:role/wi", AWS_ROLE_SESSION_NAME = "pod-1"}}:get())
    assert.equal("fulfilled", state, tostring(c))
    assert.equal("web identity", c.source)
    local s = stats()
    assert.equal("arn:aws:iam::1:role/wi", s.last_role_arn)
    assert.equal("pod-1", s.last_session_name)
  end)

  it("scrubs the token from an STS error that quotes it", function()
    configure {web_identity_token = "the-right-one"}
    local token = write(home .. "/wi", "leaky-web-identity-token")
    local state, err = settle(credentials.chain {env = env {AWS_WEB_IDENTITY_TOKEN_FILE = token,
      AWS_ROLE_ARN = "arn:aws:iam::1:role/wi"}}:get())
    assert.equal("rejected", state)
    assert.matches("InvalidIdentityToken: Token <redacted> is not valid", err.message)
    assert.is_nil(tostring(err):find("leaky-web-identity-token", 1, true))
    for _, p in ipairs(err.providers) do assert.is_nil(p.reason:find("leaky", 1, true)) end
  end)

  it("is skipped when only half configured", function()
    local _, err = settle(credentials.chain {env = env {AWS_ROLE_ARN = "arn"}}:get())
    assert.matches("web identity: AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not", err.message)
  end)
end)

describe("container provider", function()
  it("fetches AWS_CONTAINER_CREDENTIALS_RELATIVE_URI with the authorization token", function()
    configure {container_token = "container-auth-token"}
    local state, c = settle(credentials.chain {env = env {AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = "/container/v2/abc",
      AWS_CONTAINER_AUTHORIZATION_TOKEN = "container-auth-token"}, containerEndpoint = srv.url}:get())
    assert.equal("fulfilled", state, tostring(c))
    assert.matches("^ASIACONTAI", c.accessKeyId)
    assert.equal("container", c.source)
    assert.is_true(c.expireTime > os.time())
    local s = stats()
    assert.equal("/container/v2/abc", s.last_path)
    assert.equal("container-auth-token", s.last_authorization)
  end)

  it("prefers AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE and uses _FULL_URI", function()
    configure {container_token = "from-file-token"}
    local file = write(home .. "/ctok", "from-file-token\n")
    local state, c = settle(credentials.chain {env = env {AWS_CONTAINER_CREDENTIALS_FULL_URI = srv.url .. "/container/full",
      AWS_CONTAINER_AUTHORIZATION_TOKEN = "ignored", AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = file}}:get())
    assert.equal("fulfilled", state, tostring(c))
    assert.equal("from-file-token", stats().last_authorization)
  end)

  it("fails on a refused token without revealing it", function()
    configure {container_token = "expected-token"}
    local state, err = settle(credentials.chain {env = env {AWS_CONTAINER_CREDENTIALS_FULL_URI = srv.url .. "/container/x",
      AWS_CONTAINER_AUTHORIZATION_TOKEN = "wrong-container-token"}}:get())
    assert.equal("rejected", state)
    assert.matches("container: container credentials endpoint http://127%.0%.0%.1:%d+/container/x answered HTTP 403",
      err.message)
    assert.is_nil(tostring(err):find("wrong-container-token", 1, true))
  end)

  it("refuses plain http to a host that is not loopback, before any traffic", function()
    local state, err = settle(credentials.chain {env = env {AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://192.0.2.1/creds"}}:get())
    assert.equal("rejected", state)
    assert.matches("plain http is only allowed to a loopback", err.message)
  end)
end)

describe("EC2 instance metadata provider", function()
  it("uses IMDSv2: a session token, then the role, then its credentials", function()
    local state, c = settle(credentials.chain {env = imds_env()}:get())
    assert.equal("fulfilled", state, tostring(c))
    assert.matches("^ASIAIMDS", c.accessKeyId)
    assert.equal("EC2 instance metadata", c.source)
    assert.is_true(math.abs(c.expireTime - (os.time() + 3600)) < 10)
    local s = stats()
    assert.same({1, 1, 1}, {s.imds_token, s.imds_list, s.imds_creds})
    assert.matches("^imds%-session%-", s.last_imds_token)
  end)

  it("reuses its session token across refreshes", function()
    configure {expires_in = 100} -- inside the refresh window: every get() fetches
    local chain = credentials.chain {env = imds_env()}
    local _, a = settle(chain:get())
    local _, b = settle(chain:get())
    assert.are_not.equal(a.accessKeyId, b.accessKeyId)
    local s = stats()
    assert.equal(2, s.imds_creds)
    assert.equal(1, s.imds_token)
  end)

  it("falls back to IMDSv1 when the token request is refused", function()
    configure {imds_v1 = true}
    local state, c = settle(credentials.chain {env = imds_env()}:get())
    assert.equal("fulfilled", state, tostring(c))
    assert.equal(1, stats().imds_token)
  end)

  it("fails when the credentials document is not a Success", function()
    configure {imds_code = "Failure"}
    local _, err = settle(credentials.chain {env = imds_env()}:get())
    assert.matches("EC2 instance metadata: .* answered Code Failure", err.message)
  end)

  it("is skipped with AWS_EC2_METADATA_DISABLED=true", function()
    local _, err = settle(credentials.chain {env = env()}:get())
    assert.matches("EC2 instance metadata: AWS_EC2_METADATA_DISABLED=true", err.message)
    assert.is_nil(stats().imds_token)
  end)
end)

describe("the chain", function()
  it("uses the first configured provider in SDK order", function()
    configure {sts_keys = {}}
    local token = write(home .. "/wi", "tok")
    write(home .. "/.aws/credentials", "[default]\naws_access_key_id = FILE\naws_secret_access_key = f\n")
    local all = imds_env {AWS_ACCESS_KEY_ID = "ENV", AWS_SECRET_ACCESS_KEY = "e", AWS_WEB_IDENTITY_TOKEN_FILE = token,
      AWS_ROLE_ARN = "arn:aws:iam::1:role/wi", AWS_CONTAINER_CREDENTIALS_FULL_URI = srv.url .. "/container/c"}
    local order = {}
    for _, drop in ipairs {"AWS_ACCESS_KEY_ID", "HOME", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "none"} do
      local _, c = settle(credentials.chain {env = all}:get())
      order[#order + 1] = c.source
      all[drop] = nil
      if drop == "AWS_ACCESS_KEY_ID" then all.AWS_SECRET_ACCESS_KEY = nil end
    end
    assert.same({"environment", "shared files", "web identity", "container", "EC2 instance metadata"}, order)
  end)

  it("names every provider and why when none has credentials", function()
    local port = servers.closed_port()
    local state, err = settle(credentials.chain {env = {HOME = home,
      AWS_EC2_METADATA_SERVICE_ENDPOINT = "http://127.0.0.1:" .. port}}:get())
    assert.equal("rejected", state)
    assert.equal("CredentialsError", err.code)
    local m = err.message
    assert.matches("^Could not load credentials from any provider: environment: AWS_ACCESS_KEY_ID not set; " ..
      "shared files: no profile 'default' in .*; web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set; " ..
      "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set; " ..
      "EC2 instance metadata: http://127%.0%.0%.1:" .. port .. ": NetworkingError: ", m)
    assert.equal(5, #err.providers)
    assert.equal("skipped", err.providers[1].status)
    assert.equal("failed", err.providers[5].status)
  end)

  it("shares one fetch among concurrent get() calls (single flight)", function()
    configure {delay_ms = 300}
    local chain = credentials.chain {env = imds_env()}
    local list = {}
    for i = 1, 8 do list[i] = chain:get() end
    local state, all = settle(AWS.Promise.all(list))
    assert.equal("fulfilled", state)
    for i = 2, 8 do assert.equal(all[1].accessKeyId, all[i].accessKeyId) end
    local s = stats()
    assert.equal(1, s.imds_creds)
    assert.equal(1, s.imds_token)
  end)

  it("keeps credentials until 5 minutes before expiry, then refreshes once", function()
    local clock = os.time()
    local chain = credentials.chain {env = imds_env(), now = function() return clock end}
    local _, a = settle(chain:get())
    local _, b = settle(chain:get())
    assert.equal(a.accessKeyId, b.accessKeyId)
    assert.equal(1, stats().imds_creds)
    clock = a.expireTime - 299
    configure {delay_ms = 100}
    local l = {chain:get(), chain:get(), chain:get()}
    local _, c = settle(AWS.Promise.all(l))
    assert.are_not.equal(a.accessKeyId, c[1].accessKeyId)
    assert.equal(c[1].accessKeyId, c[3].accessKeyId)
    assert.equal(2, stats().imds_creds)
  end)

  it("does not remember a failed fetch", function()
    configure {status_override = {["/latest/meta-data/iam/security-credentials/fixture-role"] = 404}}
    local chain = credentials.chain {env = imds_env()}
    local state = settle(chain:get())
    assert.equal("rejected", state)
    configure {status_override = {}}
    local state2, c = settle(chain:get())
    assert.equal("fulfilled", state2, tostring(c))
  end)

  it("retries a 5xx answer once", function()
    configure {status_override = {["/latest/meta-data/iam/security-credentials/fixture-role"] = 500}}
    local chain = credentials.chain {env = imds_env()}
    assert.equal("rejected", (settle(chain:get())))
    assert.equal(2, stats().imds_creds)
  end)

  it("fetches anew after invalidate()", function()
    local chain = credentials.chain {env = imds_env()}
    local _, a = settle(chain:get())
    assert.equal(a, chain:peek())
    chain:invalidate()
    assert.is_nil(chain:peek())
    local _, b = settle(chain:get())
    assert.are_not.equal(a.accessKeyId, b.accessKeyId)
    assert.equal(2, stats().imds_creds)
  end)

  it("has one process-wide default chain, and one chain per explicit value", function()
    assert.equal(credentials.default(), credentials.default())
    assert.equal(credentials.default(), credentials.for_config({}))
    local value = {accessKeyId = "A", secretAccessKey = "s"}
    assert.equal(credentials.for_config {credentials = value}, credentials.for_config {credentials = value})
    assert.are_not.equal(credentials.default(), credentials.for_config {credentials = value})
  end)
end)

describe("secrets", function()
  it("never appear in messages, provider reports or tostring", function()
    local secrets = {"env-secret-key-AAAA", "env-session-token-BBBB", "wi-token-CCCC", "container-token-DDDD"}
    local token = write(home .. "/wi", secrets[3])
    configure {web_identity_token = "other"}
    local cases = {
      {AWS_SECRET_ACCESS_KEY = secrets[1], AWS_SESSION_TOKEN = secrets[2]},
      {AWS_WEB_IDENTITY_TOKEN_FILE = token, AWS_ROLE_ARN = "arn:aws:iam::1:role/x"},
      {AWS_CONTAINER_CREDENTIALS_FULL_URI = srv.url .. "/container/y", AWS_CONTAINER_AUTHORIZATION_TOKEN = secrets[4]},
    }
    configure {container_token = "something-else", web_identity_token = "other"}
    local checked = 0
    for _, extra in ipairs(cases) do
      local state, err = settle(credentials.chain {env = env(extra)}:get())
      assert.equal("rejected", state)
      local texts = {tostring(err), err.message}
      for _, p in ipairs(err.providers) do texts[#texts + 1] = p.reason end
      for _, text in ipairs(texts) do
        for _, secret in ipairs(secrets) do
          assert.is_nil(text:find(secret, 1, true), secret .. " leaked into: " .. text)
          checked = checked + 1
        end
      end
    end
    assert.is_true(checked > 20)
    local c = credentials.normalize({accessKeyId = "AKID", secretAccessKey = "shh-secret", sessionToken = "shh-token"}, "x")
    assert.is_nil(tostring(c):find("shh", 1, true))
    assert.matches("AKID", tostring(c))
  end)
end)
