-- Small helpers shared by the specs.
local AWS = require "awspromise"

local support = {}

-- Runs the loop until idle and returns what `probe` collected.
function support.settle(p)
  local state, value
  p:next(function(v) state, value = "fulfilled", v end, function(r) state, value = "rejected", r end)
  AWS.run()
  return state, value
end

-- The repository's absolute path (specs may run from any directory).
function support.repo_root()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local dir = src:match("^(.*)/spec/support/[^/]+$")
  if not dir and src:match("^spec/support/") then dir = "." end
  if not dir or dir == "" then dir = "." end
  if dir:sub(1, 1) ~= "/" then
    local pwd = os.getenv("PWD") or "."
    dir = dir == "." and pwd or (pwd .. "/" .. dir)
  end
  return dir
end

-- A word for sh: single-quoted, with inner quotes escaped.
function support.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Temporary directories, removed together by support.remove_tmpdirs().
local tmpdirs = {}

function support.tmpdir()
  local p = io.popen("mktemp -d")
  local dir = p:read("l")
  p:close()
  tmpdirs[#tmpdirs + 1] = dir
  return dir
end

function support.remove_tmpdirs()
  for _, d in ipairs(tmpdirs) do os.execute("rm -rf " .. support.quote(d)) end
  tmpdirs = {}
end

-- Writes a file (making its directory), optionally chmod-ing it; returns the path.
function support.write(path, text, mode)
  os.execute("mkdir -p " .. support.quote(path:match("^(.*)/")))
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  if mode then os.execute("chmod " .. mode .. " " .. support.quote(path)) end
  return path
end

function support.shared_dir()
  local dir = support.repo_root() .. "/../shared"
  local f = io.open(dir .. "/testdata/README.md")
  if not f then return nil end
  f:close()
  return dir
end

-- Runs a Lua script in a fresh lua5.4 with the module on its paths; returns stdout, stderr, ok.
function support.run_script(source)
  local dir = os.tmpname()
  local script, errfile = dir .. ".lua", dir .. ".err"
  local f = assert(io.open(script, "w"))
  f:write(source)
  f:close()
  local root = support.repo_root()
  local cmd = string.format(
    "LUA_PATH='%s/lua/?.lua;%s/lua/?/init.lua;%s/spec/?.lua;;' LUA_CPATH=%q lua5.4 %s 2>%s",
    root, root, root, os.getenv("LUA_CPATH") or (root .. "/build/?.so;;"), script, errfile)
  local pipe = assert(io.popen(cmd))
  local out = pipe:read("a")
  local ok = pipe:close()
  local ef = io.open(errfile)
  local err = ef and ef:read("a") or ""
  if ef then ef:close() end
  os.remove(script)
  os.remove(errfile)
  os.remove(dir)
  return out, err, ok
end

return support
