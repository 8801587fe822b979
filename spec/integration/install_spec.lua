-- The rock: `luarocks make` installs the module offline, and it loads from any directory.
local support = require "support.loop"

describe("luarocks make", function()
  it("installs a module that works from another directory", function()
    if os.execute("command -v luarocks >/dev/null 2>&1") ~= true then
      pending("luarocks is not installed (apt-get install luarocks)")
      return
    end
    local root = support.repo_root()
    if root:sub(1, 1) ~= "/" then root = os.getenv("PWD") .. "/" .. root end
    local tree = os.tmpname()
    os.remove(tree)
    local log = tree .. ".log"
    local ok = os.execute(string.format(
      "cd %q && luarocks --lua-version=5.4 --tree %q make rockspec/awspromise-scm-1.rockspec >%q 2>&1",
      root, tree, log))
    local f = io.open(log)
    local output = f and f:read("a") or ""
    if f then f:close() end
    assert.is_true(ok == true, output)
    local cmd = string.format(
      "cd /tmp && env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 lua5.4 -e " ..
      "'package.path = %q; package.cpath = %q; local AWS = require \"awspromise\"; " ..
      "print(AWS.S3({region = \"us-east-1\"}).api.apiVersion, package.searchpath(\"awspromise.core\", package.cpath) ~= nil); " ..
      -- the modules in folders and the ones nothing requires at load time are installed too
      "print(type(require(\"awspromise.credentials\").chain), type(require(\"awspromise.s3\").address)); " ..
      "print(AWS.DynamoDB.Converter.marshall({n = 1}).n.N, type(require(\"awspromise.customizations\").request))'",
      tree .. "/share/lua/5.4/?.lua;" .. tree .. "/share/lua/5.4/?/init.lua",
      tree .. "/lib/lua/5.4/?.so")
    local p = io.popen(cmd .. " 2>&1")
    local out = p:read("a")
    p:close()
    os.execute(string.format("rm -rf %q %q", tree, log))
    assert.equal("2006-03-01\ttrue\nfunction\tfunction\n1\tfunction\n", out)
  end)
end)
