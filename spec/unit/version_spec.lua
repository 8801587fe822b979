-- One version string: lua/awspromise/version.lua is the source; AWS.VERSION, the Makefile (which
-- compiles it into the User-Agent header) and every rockspec must agree with it.
local support = require "support.loop"

local root = support.repo_root()
local VERSION = require "awspromise.version"

-- A rockspec is Lua that assigns globals; run it in an empty environment and return them.
local function load_rockspec(path)
  local env = {}
  assert(loadfile(path, "t", env))()
  return env
end

local function rockspec_paths()
  local p = io.popen("ls " .. support.quote(root .. "/rockspec") .. "/*.rockspec 2>/dev/null")
  local list = {}
  for line in p:lines() do list[#list + 1] = line end
  p:close()
  return list
end

describe("the version", function()
  it("is one MAJOR.MINOR.PATCH string in lua/awspromise/version.lua", function()
    assert.are.equal("string", type(VERSION))
    assert.truthy(VERSION:match("^%d+%.%d+%.%d+$"), VERSION)
  end)

  it("is AWS.VERSION", function()
    assert.are.equal(VERSION, require("awspromise").VERSION)
  end)

  it("is what the Makefile reads (and compiles into the core)", function()
    local cmd = "env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s --no-print-directory -C "
      .. support.quote(root) .. " print-version 2>&1"
    local p = io.popen(cmd)
    local out = p:read("a")
    p:close()
    assert.are.equal(VERSION .. "\n", out)
  end)

  it("is the one in the User-Agent of the built core, and no other version is there", function()
    local path = package.searchpath("awspromise.core", package.cpath)
    assert.truthy(path, "awspromise.core is not on package.cpath")
    local f = assert(io.open(path, "rb"))
    local binary = f:read("a")
    f:close()
    assert.truthy(binary:find("awspromise/" .. VERSION .. " lua/5.4", 1, true),
      path .. " lacks the User-Agent awspromise/" .. VERSION .. " (built before a version change?)")
    for other in binary:gmatch("awspromise/(%d+%.%d+%.%d+)") do
      assert.are.equal(VERSION, other, "a second version string in " .. path)
    end
  end)

  it("names every rockspec: scm-N (the development rock) or VERSION-N, matching its file", function()
    local paths = rockspec_paths()
    assert.is_true(#paths >= 1, "no rockspec under " .. root .. "/rockspec")
    for _, path in ipairs(paths) do
      local spec = load_rockspec(path)
      assert.are.equal("awspromise", spec.package, path)
      assert.are.equal(spec.package .. "-" .. spec.version .. ".rockspec", path:match("[^/]+$"),
        "luarocks wants the file named package-version.rockspec")
      local base = spec.version:match("^(.+)%-%d+$")
      assert.truthy(base, path .. ": version " .. tostring(spec.version) .. " lacks its -N revision")
      assert.truthy(base == "scm" or base == VERSION,
        path .. ": version " .. spec.version .. " is neither scm-N nor " .. VERSION .. "-N")
    end
  end)

  it("has a rockspec that declares the C libraries the core links", function()
    local spec = load_rockspec(root .. "/rockspec/awspromise-scm-1.rockspec")
    local deps = spec.external_dependencies or {}
    for _, name in ipairs({ "CURL", "CRYPTO", "CJSON", "EXPAT" }) do
      assert.are.equal("table", type(deps[name]), "external_dependencies." .. name)
      assert.truthy(deps[name].library, "external_dependencies." .. name .. ".library")
    end
    local vars = spec.build and spec.build.build_variables or {}
    for _, name in ipairs({ "CURL", "CRYPTO", "CJSON", "EXPAT" }) do
      assert.truthy(vars.DEPS_CFLAGS:find("$(" .. name .. "_INCDIR)", 1, true), "DEPS_CFLAGS: " .. name)
      assert.truthy(vars.DEPS_LIBS:find("$(" .. name .. "_LIBDIR)", 1, true), "DEPS_LIBS: " .. name)
    end
  end)
end)
