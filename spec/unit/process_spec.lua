-- core.spawn: child processes whose output settles into promises, driven by the loop.
local AWS = require "awspromise"
local core = require "awspromise.core"

local settle = require("support.loop").settle

local function now()
  local f = io.open("/proc/uptime")
  local t = tonumber(f:read("l"):match("^[%d.]+"))
  f:close()
  return t
end

local function my_pid()
  local f = io.open("/proc/self/stat")
  local pid = tonumber(f:read("l"):match("^(%d+)"))
  f:close()
  return pid
end

-- Descriptors a spawn could leak: pipes, /dev/null and anonymous inodes (pidfd, signalfd). Sockets
-- are left out: keep-alive connections of earlier specs may close while this file runs.
local function open_fds()
  local p = io.popen("ls -l /proc/" .. my_pid() .. "/fd")
  local n = 0
  for line in p:lines() do
    local target = line:match(" %-> (.*)$")
    if target and not target:match("^socket:") then n = n + 1 end
  end
  p:close()
  return n
end

-- Our children that are zombies, read from /proc (ps would do, but hangs under ASan preloading).
local function zombies()
  local me, n = my_pid(), 0
  local p = io.popen("ls /proc")
  local listing = p:read("a")
  p:close() -- first: a finished ls is itself a zombie until then
  for entry in listing:gmatch("[^\n]+") do
    local f = entry:match("^%d+$") and io.open("/proc/" .. entry .. "/stat")
    if f then
      local state, ppid = (f:read("l") or ""):match("^%d+ %(.*%) (%S) (%d+)")
      f:close()
      if state == "Z" and tonumber(ppid) == me then n = n + 1 end
    end
  end
  return n
end

describe("core.spawn", function()
  it("runs a shell command and collects stdout, stderr and the exit status", function()
    local state, r = settle(core.spawn("echo out; echo err >&2; exit 3"))
    assert.equal("fulfilled", state)
    assert.equal("out\n", r.stdout)
    assert.equal("err\n", r.stderr)
    assert.equal(3, r.status)
    assert.is_nil(r.signal)
  end)

  it("runs an argv sequence without a shell", function()
    local _, r = settle(core.spawn({"printf", "%s|", "a b", "$HOME", "*"}))
    assert.equal("a b|$HOME|*|", r.stdout)
    assert.equal(0, r.status)
  end)

  it("gives the child /dev/null as stdin", function()
    local _, r = settle(core.spawn({"cat"}))
    assert.equal("", r.stdout)
    assert.equal(0, r.status)
  end)

  it("rejects with SpawnError when the program cannot be started", function()
    local state, err = settle(core.spawn({"/nonexistent/awspromise-test"}))
    if os.getenv("AWSPROMISE_UNDER_VALGRIND") then
      -- valgrind runs posix_spawn's vfork as a fork: the exec failure only shows as status 127,
      -- or as valgrind's own error exit code when it reports the dying child's leaks
      local status = state == "fulfilled" and err.status
      assert.is_true(status == 127 or status == 99, "status " .. tostring(status))
      return
    end
    assert.equal("rejected", state)
    assert.equal("SpawnError", err.code)
    assert.matches("cannot run '/nonexistent/awspromise%-test': No such file", err.message)
  end)

  it("reports a child killed by a signal as 128 + signal", function()
    local _, r = settle(core.spawn("kill -9 $$"))
    assert.equal(137, r.status)
    assert.equal(9, r.signal)
  end)

  it("collects large outputs on both streams intact", function()
    local _, r = settle(core.spawn("head -c 1000000 /dev/zero | tr '\\0' a; head -c 300000 /dev/zero | tr '\\0' b >&2"))
    assert.equal(1000000, #r.stdout)
    assert.equal(300000, #r.stderr)
    assert.is_nil(r.stdout:find("[^a]"))
    assert.is_nil(r.stderr:find("[^b]"))
  end)

  it("kills the child and rejects with TimeoutError after opts.timeout", function()
    local t0 = now()
    local state, err = settle(core.spawn("echo started; sleep 10", {timeout = 200}))
    assert.equal("rejected", state)
    assert.equal("TimeoutError", err.code)
    assert.matches("did not finish within 200 ms", err.message)
    assert.is_true(now() - t0 < 3)
    assert.equal(0, zombies())
  end)

  it("kills the child and rejects with ProcessError beyond opts.maxBuffer", function()
    local state, err = settle(core.spawn("head -c 1000000 /dev/zero", {maxBuffer = 1000}))
    assert.equal("rejected", state)
    assert.equal("ProcessError", err.code)
    assert.matches("exceeded maxBuffer", err.message)
  end)

  it("waits for a child that closed its output before exiting", function()
    local _, r = settle(core.spawn("exec >&- 2>&-; sleep 0.2; exit 5"))
    assert.equal(5, r.status)
  end)

  it("runs children concurrently without blocking the loop", function()
    local t0 = now()
    local ticks = 0
    local function tick() ticks = ticks + 1; if ticks < 5 then AWS.util.delay(20):next(tick) end end
    tick()
    local list = {}
    for i = 1, 4 do list[i] = core.spawn("sleep 0.3; echo " .. i) end
    local state, results = settle(AWS.Promise.all(list))
    assert.equal("fulfilled", state)
    for i = 1, 4 do assert.equal(i .. "\n", results[i].stdout) end
    assert.is_true(now() - t0 < 1.1, "children ran one after another")
    assert.equal(5, ticks)
  end)

  it("keeps the loop alive until the child is done", function()
    local done = false
    core.spawn("sleep 0.1"):next(function() done = true end)
    assert.is_true(AWS.loop.alive())
    AWS.run()
    assert.is_true(done)
  end)

  it("works with await", function()
    assert.equal("hi\n", core.spawn({"echo", "hi"}):await().stdout)
  end)

  it("leaves no zombie and no descriptor behind", function()
    local before = open_fds()
    for _ = 1, 3 do
      settle(core.spawn("echo x"))
      settle(core.spawn({"/nonexistent/x"}))
      settle(core.spawn("sleep 5", {timeout = 50}))
    end
    assert.equal(before, open_fds())
    assert.equal(0, zombies())
  end)

  it("passes the child no descriptor but its three streams", function()
    local _, r = settle(core.spawn({"ls", "-l", "/proc/self/fd/"}))
    local fds = {}
    for fd, target in r.stdout:gmatch(" (%d+) %-> ([^\n]*)") do fds[tonumber(fd)] = target end
    assert.equal("/dev/null", fds[0])
    assert.matches("^pipe:", fds[1])
    assert.matches("^pipe:", fds[2])
    for fd, target in pairs(fds) do
      -- beyond 0-2 only ls's own handle on the directory it lists
      assert.is_true(fd <= 2 or target:match("^/proc/%d+/fd") ~= nil,
        ("fd %d -> %s reached the child"):format(fd, target))
    end
  end)

  it("refuses bad arguments at once", function()
    assert.has_error(function() core.spawn(42) end)
    assert.has_error(function() core.spawn({}) end)
    assert.has_error(function() core.spawn({"echo", 1}) end)
    assert.has_error(function() core.spawn("a\0b") end)
    assert.has_error(function() core.spawn("true", {timeout = -1}) end)
    assert.has_error(function() core.spawn("true", {maxBuffer = 0}) end)
  end)
end)
