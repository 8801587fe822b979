-- JavaScript v2's credential classes against local fixtures (spec/support/jsv2_server.py plays
-- the SSO portal, Cognito Identity and STS; signed STS calls are checked with botocore). Every
-- class gets its environment as a table with a temporary HOME: nothing leaves 127.0.0.1.
local AWS = require "awspromise"
local servers = require "support.servers"
local support = require "support.loop"

local srv, home

setup(function() srv = servers.start("spec/support/jsv2_server.py") end)
teardown(function()
  if srv then srv.stop() end
  support.remove_tmpdirs()
end)
before_each(function() home = support.tmpdir() end)

local MASTER = {accessKeyId = "AKIDMASTER", secretAccessKey = "master-secret-key-000000"}

local function env(extra)
  local e = {HOME = home, AWS_EC2_METADATA_DISABLED = "true"}
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

-- Runs method(object, callback) and the loop; returns the callback's arguments.
local function called(object, method)
  local result
  object[method](object, function(...) result = table.pack(...) end)
  AWS.run()
  return table.unpack(result, 1, result.n)
end

local function last() return srv.json("GET", "/_control/last") end

describe("AWS.Credentials", function()
  it("takes positional or table arguments, and reports needsRefresh and expiry", function()
    local c = AWS.Credentials("AKID", "SECRET", "TOKEN")
    assert.same({"AKID", "SECRET", "TOKEN"}, {c.accessKeyId, c.secretAccessKey, c.sessionToken})
    assert.is_false(c:needsRefresh())
    local t = AWS.Credentials {accessKeyId = "A2", secretAccessKey = "S2"}
    assert.equal("A2", t.accessKeyId)
    t.expireTime = os.time() + 5 -- within the 15 s expiry window
    assert.is_true(t:needsRefresh())
    t.expireTime, t.expired = nil, true
    assert.is_true(t:needsRefresh())
    assert.is_nil(called(t, "refresh"))
    assert.is_false(t.expired)
    assert.not_matches("S2", tostring(t))
  end)

  it("signs requests when set as AWS.config.credentials (the object is refreshed through get)", function()
    local c = AWS.EnvironmentCredentials("ACME", {env = {ACME_ACCESS_KEY_ID = "AKACME", ACME_SECRET_ACCESS_KEY = "s"}})
    assert.is_nil(called(c, "get"))
    assert.equal("AKACME", c.accessKeyId)
    local got
    require("awspromise.credentials").for_config({credentials = c}):get():next(function(v) got = v end)
    AWS.run()
    assert.equal("AKACME", got.accessKeyId)
  end)
end)

describe("SsoCredentials", function()
  local function write_profile(session_style, expires_at)
    local key = session_style and "my-sso" or "https://example.awsapps.com/start"
    local config = session_style and table.concat({
      "[profile dev]", "sso_session = my-sso", "sso_account_id = 111122223333", "sso_role_name = Dev",
      "[sso-session my-sso]", "sso_start_url = https://example.awsapps.com/start", "sso_region = us-east-1"}, "\n")
      or table.concat({"[profile dev]", "sso_start_url = https://example.awsapps.com/start",
        "sso_region = us-east-1", "sso_account_id = 111122223333", "sso_role_name = Dev"}, "\n")
    support.write(home .. "/.aws/config", config .. "\n")
    support.write(("%s/.aws/sso/cache/%s.json"):format(home, AWS.util.crypto.sha1(key, "hex")),
      ('{"accessToken": "sso-access-token-0001", "expiresAt": "%s"}'):format(expires_at))
  end

  for _, style in ipairs {"sso-session", "legacy keys"} do
    it("reads the cached token and calls GetRoleCredentials (" .. style .. ")", function()
      write_profile(style == "sso-session", "2099-01-01T00:00:00Z")
      local c = AWS.SsoCredentials {profile = "dev", env = env {AWS_ENDPOINT_URL_SSO = srv.url}}
      local err = called(c, "refresh")
      assert.is_nil(err, err and err.message)
      assert.matches("^ASIASSO", c.accessKeyId)
      assert.is_true(c.expireTime > os.time() + 3000)
      assert.same({account_id = "111122223333", role_name = "Dev"}, last().params)
    end)
  end

  it("says to log in again when the cached token has expired", function()
    write_profile(true, "2001-01-01T00:00:00Z")
    local err = called(AWS.SsoCredentials {profile = "dev", env = env {AWS_ENDPOINT_URL_SSO = srv.url}}, "get")
    assert.equal("CredentialsError", err.code)
    assert.matches("aws sso login", err.message)
  end)

  it("is what the default chain uses for an SSO profile", function()
    write_profile(true, "2099-01-01T00:00:00Z")
    local chain = require("awspromise.credentials").chain {env = env {AWS_PROFILE = "dev", AWS_ENDPOINT_URL_SSO = srv.url}}
    local got
    chain:get():next(function(v) got = v end, function(e) got = e end)
    AWS.run()
    assert.matches("^ASIASSO", got.accessKeyId)
  end)
end)

describe("STS classes", function()
  it("TemporaryCredentials calls GetSessionToken signed with the master credentials", function()
    local c = AWS.TemporaryCredentials({DurationSeconds = 900}, AWS.Credentials(MASTER))
    c.chain.opts.stsEndpoint = srv.url -- JavaScript's class takes no STS configuration
    local err = called(c, "get")
    assert.is_nil(err, err and err.message)
    assert.matches("^ASIASTS", c.accessKeyId)
    local call = last()
    assert.equal("GetSessionToken", call.action)
    assert.equal("AKIDMASTER", call.signed_by)
    assert.equal("900", call.params.DurationSeconds)
  end)

  it("ChainableTemporaryCredentials assumes a role with an MFA code from tokenCodeFn", function()
    local asked
    local c = AWS.ChainableTemporaryCredentials {
      params = {RoleArn = "arn:aws:iam::1:role/r", SerialNumber = "arn:aws:iam::1:mfa/me"},
      masterCredentials = AWS.Credentials(MASTER), stsConfig = {endpoint = srv.url, region = "us-east-1"},
      tokenCodeFn = function(serial, callback) asked = serial callback(nil, "123456") end,
    }
    local done
    c:refreshPromise():next(function() done = true end, function(e) done = e end)
    AWS.run()
    assert.is_true(done, type(done) == "table" and done.message or nil)
    assert.equal("arn:aws:iam::1:mfa/me", asked)
    local call = last()
    assert.same({"AssumeRole", "123456", "arn:aws:iam::1:role/r"}, {call.action, call.params.TokenCode,
      call.params.RoleArn})
  end)

  it("a profile's mfa_serial asks tokenCodeFn too (SharedIniFileCredentials)", function()
    support.write(home .. "/.aws/credentials", "[base]\naws_access_key_id = AKIDMASTER\n" ..
      "aws_secret_access_key = master-secret-key-000000\n")
    support.write(home .. "/.aws/config", "[profile mfa]\nrole_arn = arn:aws:iam::1:role/m\n" ..
      "source_profile = base\nmfa_serial = arn:aws:iam::1:mfa/p\n")
    local c = AWS.SharedIniFileCredentials {profile = "mfa", env = env {AWS_ENDPOINT_URL_STS = srv.url},
      tokenCodeFn = function(_, callback) callback(nil, "123456") end}
    local err = called(c, "get")
    assert.is_nil(err, err and err.message)
    assert.equal("arn:aws:iam::1:mfa/p", last().params.SerialNumber)
    local refused = AWS.SharedIniFileCredentials {profile = "mfa", env = env {AWS_ENDPOINT_URL_STS = srv.url}}
    assert.matches("tokenCodeFn", called(refused, "get").message)
  end)

  it("SAMLCredentials and WebIdentityCredentials call STS unsigned", function()
    local saml = AWS.SAMLCredentials({RoleArn = "arn:r", PrincipalArn = "arn:p", SAMLAssertion = "PHNhbWw+"},
      {endpoint = srv.url, region = "us-east-1"})
    assert.is_nil(called(saml, "get"))
    assert.same({"AssumeRoleWithSAML", "PHNhbWw+"}, {last().action, last().params.SAMLAssertion})
    assert.equal(require("awspromise.core").null, last().signed_by) -- JSON null: no signature
    local web = AWS.WebIdentityCredentials({RoleArn = "arn:r", WebIdentityToken = "jwt"},
      {endpoint = srv.url, region = "us-east-1"})
    assert.is_nil(called(web, "get"))
    assert.same({"AssumeRoleWithWebIdentity", "web-identity"}, {last().action, last().params.RoleSessionName})
  end)
end)

describe("CognitoIdentityCredentials", function()
  it("GetId then GetCredentialsForIdentity, keeping the identity id", function()
    local c = AWS.CognitoIdentityCredentials({IdentityPoolId = "us-east-1:pool"},
      {endpoint = srv.url, region = "us-east-1", env = env()})
    local err = called(c, "get")
    assert.is_nil(err, err and err.message)
    assert.matches("^ASIACOGNIT", c.accessKeyId)
    assert.equal("us-east-1:identity-0001", c.identityId)
    assert.equal("GetCredentialsForIdentity", last().action)
  end)

  it("with RoleArn: GetOpenIdToken and AssumeRoleWithWebIdentity", function()
    local c = AWS.CognitoIdentityCredentials({IdentityPoolId = "p", RoleArn = "arn:aws:iam::1:role/c"},
      {endpoint = srv.url, stsEndpoint = srv.url, region = "us-east-1", env = env()})
    assert.is_nil(called(c, "get"))
    assert.same({"AssumeRoleWithWebIdentity", "cognito-oidc-token"}, {last().action, last().params.WebIdentityToken})
  end)

  it("reports Cognito's error", function()
    local err = called(AWS.CognitoIdentityCredentials({}, {endpoint = srv.url, region = "us-east-1", env = env()}), "get")
    assert.matches("InvalidParameterException", err.message)
  end)
end)

describe("AWS.CredentialProviderChain", function()
  it("resolves to the first provider that has credentials, and serves as credentialProvider", function()
    local chain = AWS.CredentialProviderChain {
      function() return AWS.EnvironmentCredentials("NONE", {env = {}}) end,
      AWS.Credentials("AKCHAIN", "s"),
    }
    local err, found = called(chain, "resolve")
    assert.is_nil(err)
    assert.equal("AKCHAIN", found.accessKeyId)
    local config = {credentialProvider = chain}
    local got
    require("awspromise.credentials").for_config(config):get():next(function(v) got = v end)
    AWS.run()
    assert.equal("AKCHAIN", got.accessKeyId)
    assert.equal(8, #AWS.CredentialProviderChain.defaultProviders)
  end)

  it("names every provider when none has credentials", function()
    local err = called(AWS.CredentialProviderChain {AWS.EnvironmentCredentials("NONE", {env = {}})}, "resolve")
    assert.matches("NONE_ACCESS_KEY_ID not set", err.message)
  end)
end)
