-- Shared config/credentials files and region resolution (awspromise.profile).
local support = require "support.loop"
local profile = require "awspromise.profile"

local tmpdir = support.tmpdir

local write = support.write

teardown(function()
  support.remove_tmpdirs()
end)

describe("profile.parse", function()
  it("reads sections, keys and values, ignoring comments and blank lines", function()
    local s = profile.parse([[
# a comment
; another
[default]
aws_access_key_id = AKID
  
region=us-west-2
Output   =   json  
url = https://x/?a=b=c

[profile dev]   # trailing comment
region = eu-west-1
]])
    assert.same({aws_access_key_id = "AKID", region = "us-west-2", output = "json", url = "https://x/?a=b=c"},
      s.default)
    assert.same({region = "eu-west-1"}, s["profile dev"])
  end)

  it("reads nested sub-sections and continuation lines", function()
    local s = profile.parse("[p]\ns3 =\n  max_concurrent_requests = 10\n  addressing_style = path\nregion = r\n" ..
      "note = first\n  second\n")
    assert.same({max_concurrent_requests = "10", addressing_style = "path"}, s.p.s3)
    assert.equal("r", s.p.region)
    assert.equal("first\nsecond", s.p.note)
  end)

  it("accepts CRLF line endings, collapses blanks in section names and keeps the order", function()
    local s, order = profile.parse("[profile   a ]\r\nk = v\r\n[b]\r\nx = 1\r\n")
    assert.same({k = "v"}, s["profile a"])
    assert.same({"profile a", "b"}, order)
  end)

  it("ignores keys outside any section and malformed headers", function()
    local s, order = profile.parse("stray = 1\n[broken\nk = v\n[ok]\nk = w\n")
    assert.same({"ok"}, order)
    assert.same({k = "w"}, s.ok)
  end)
end)

describe("profile.load", function()
  it("reads [profile x] from the config file and [x] from the credentials file, credentials winning", function()
    local home = tmpdir()
    write(home .. "/.aws/config", "[default]\nregion = us-east-2\n[profile dev]\nregion = eu-west-1\n" ..
      "aws_access_key_id = FROMCONFIG\n[dev]\nregion = not-a-profile\n[sso-session corp]\nsso_region = x\n")
    write(home .. "/.aws/credentials", "[dev]\naws_access_key_id = FROMCREDS\naws_secret_access_key = s\n" ..
      "[profile weird]\nk = v\n")
    local shared = profile.load {env = {HOME = home}}
    assert.equal("default", shared.name)
    assert.equal("us-east-2", shared:get().region)
    assert.same({region = "eu-west-1", aws_access_key_id = "FROMCREDS", aws_secret_access_key = "s"},
      shared:get("dev"))
    assert.same({region = "not-a-profile"}, shared.sections.dev)
    assert.same({sso_region = "x"}, shared.sections["sso-session corp"])
    assert.same({k = "v"}, shared:get("profile weird"))
    assert.equal("read", shared.status[home .. "/.aws/config"])
  end)

  it("honours AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, with ~ expanded", function()
    local home = tmpdir()
    write(home .. "/elsewhere/cfg", "[profile x]\nregion = ap-south-1\n")
    write(home .. "/elsewhere/creds", "[x]\naws_access_key_id = A\n")
    write(home .. "/.aws/config", "[profile x]\nregion = wrong\n")
    local shared = profile.load {env = {HOME = home, AWS_CONFIG_FILE = "~/elsewhere/cfg",
      AWS_SHARED_CREDENTIALS_FILE = home .. "/elsewhere/creds", AWS_PROFILE = "x"}}
    assert.equal(home .. "/elsewhere/cfg", shared.configFile)
    assert.equal("x", shared.name)
    assert.equal("ap-south-1", shared:get().region)
    assert.equal("A", shared:get().aws_access_key_id)
  end)

  it("treats missing files as empty and says so", function()
    local home = tmpdir()
    local shared = profile.load {env = {HOME = home}}
    assert.is_nil(shared:get())
    assert.equal("not found", shared.status[home .. "/.aws/credentials"])
    assert.matches("/%.aws/config %(not found%) and .*/%.aws/credentials %(not found%)", shared:describe())
  end)

  it("has no files at all without HOME or file variables", function()
    local shared = profile.load {env = {}}
    assert.is_nil(shared.configFile)
    assert.matches("unset", shared:describe())
  end)
end)

describe("profile.name", function()
  it("prefers the option, then AWS_PROFILE, then AWS_DEFAULT_PROFILE, then default", function()
    assert.equal("opt", (profile.name {profile = "opt", env = {AWS_PROFILE = "p"}}))
    assert.equal("p", (profile.name {env = {AWS_PROFILE = "p", AWS_DEFAULT_PROFILE = "d"}}))
    assert.equal("d", (profile.name {env = {AWS_DEFAULT_PROFILE = "d"}}))
    local name, source = profile.name {env = {}}
    assert.equal("default", name)
    assert.is_nil(source)
  end)
end)

describe("profile.getenv", function()
  it("reads only the given table, treats empty values as unset and accepts a function", function()
    local get = profile.getenv {env = {A = "1", B = "", C = false}}
    assert.equal("1", get("A"))
    assert.is_nil(get("B"))
    assert.is_nil(get("C"))
    assert.is_nil(get("PATH")) -- the real environment is not consulted
    assert.equal("PATH!", profile.getenv {env = function(n) return n .. "!" end}("PATH"))
    assert.equal(os.getenv("PATH"), profile.getenv()("PATH"))
  end)

  it("refuses an env that is neither a table nor a function", function()
    local ok, err = pcall(profile.getenv, {env = 42})
    assert.is_false(ok)
    assert.equal("ConfigError", err.code)
  end)
end)

describe("profile.region", function()
  local home
  before_each(function()
    home = tmpdir()
    write(home .. "/.aws/config", "[default]\nregion = from-default\n[profile dev]\nregion = from-dev\n")
  end)

  it("resolves explicit, then AWS_REGION, then AWS_DEFAULT_REGION, then the profile", function()
    local env = {HOME = home, AWS_REGION = "env-region", AWS_DEFAULT_REGION = "env-default"}
    assert.same({"explicit", "the region option"}, {profile.region {region = "explicit", env = env}})
    assert.same({"env-region", "AWS_REGION"}, {profile.region {env = env}})
    env.AWS_REGION = nil
    assert.same({"env-default", "AWS_DEFAULT_REGION"}, {profile.region {env = env}})
    env.AWS_DEFAULT_REGION = nil
    assert.same({"from-default", "profile 'default'"}, {profile.region {env = env}})
    env.AWS_PROFILE = "dev"
    assert.equal("from-dev", (profile.region {env = env}))
  end)

  it("gives a ConfigError naming everything it looked at", function()
    local region, err = profile.region {env = {HOME = home, AWS_PROFILE = "nope"}}
    assert.is_nil(region)
    assert.equal("ConfigError", err.code)
    assert.matches("AWS_REGION", err.message)
    assert.matches("AWS_DEFAULT_REGION", err.message)
    assert.matches("profile 'nope' %(no such profile%)", err.message)
    assert.is_truthy(err.message:find(home .. "/.aws/config (read)", 1, true))
    assert.matches("^ConfigError: Missing region", tostring(err))
  end)

  it("refuses a region that is not a string", function()
    local _, err = profile.region {region = 5, env = {}}
    assert.equal("ConfigError", err.code)
  end)
end)
