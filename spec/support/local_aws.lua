-- The local AWS services (tools/local-aws: s3rver, dynalite, the EC2 fixture, all behind the
-- SigV4-checking front) for the specs: started once per busted run, lazily, by the first spec that
-- asks; stopped when busted's Lua state closes (on success and on failure alike), and in any case by
-- tools/local-aws's supervisor shortly after this process dies (it is started with --parent <our pid>).
--
--   local local_aws = require "support.local_aws"
--   local aws = local_aws.get()     -- raises a clear error when the services cannot start
--   aws.env.AWS_ENDPOINT_URL_S3, aws.env.AWS_ACCESS_KEY_ID, ... every variable of <statedir>/env
--   aws.statedir
--   aws.sign("s3")                  -- {accessKeyId=, secretAccessKey=, region=, service="s3"} for core.http
--   aws.options("dynamodb"[, {https = true}])
--                                   -- {region=, credentials=, endpoint=[, httpOptions={caFile=}]
--                                   --  [, s3ForcePathStyle=true]} for AWS.<Service>(...)
--   local_aws.logs()                -- the servers' logs as one string (for a failure message)
--   local_aws.stop()                -- normally not needed
--
-- When a spec fails after the services started, the tail of their logs is printed on stderr at the end
-- of the run and the state directory is kept. AWSPROMISE_LOCAL_AWS=<statedir> uses services already
-- started with `tools/local-aws start <statedir>` (and leaves them running), for quick reruns.
local support = require "support.loop"

local M = {}

-- busted restores package.loaded (and _G) after every spec file; the registry keeps the one instance.
local SLOT = "awspromise.spec.support.local_aws"

local quote = support.quote

local repo_root = support.repo_root

local function own_pid()
  local f = io.open("/proc/self/stat", "r")
  if not f then return nil end
  local pid = f:read("n")
  f:close()
  return pid
end

local function run(cmd)
  -- A sanitizer preloaded into the specs (make asan) has no business in the servers.
  local p = assert(io.popen("env -u LD_PRELOAD " .. cmd .. " 2>&1", "r"))
  local out = p:read("a")
  local ok, how, code = p:close()
  return ok == true, out, code or how
end

local function read_env(file)
  local f, err = io.open(file, "r")
  if not f then return nil, err end
  local env = {}
  for line in f:lines() do
    local name, value = line:match("^export ([%w_]+)='(.*)'$")
    if name then env[name] = value:gsub("'\\''", "'") end
  end
  f:close()
  return env
end

local function state()
  local reg = debug.getregistry()
  local st = reg[SLOT]
  if not st then
    st = {}
    reg[SLOT] = st
  end
  return st
end

local function tool(st)
  return "bash " .. quote(st.root .. "/tools/local-aws")
end

local function logs_of(st)
  if not st.statedir then return "(the local services were never started)" end
  local _, out = run(tool(st) .. " logs " .. quote(st.statedir))
  return out
end

local function stop(st, reason)
  if st.stopped or not st.statedir then return end
  st.stopped = true
  if st.external then return end
  if st.failed and os.getenv("AWSPROMISE_LOCAL_AWS_QUIET") == nil then
    local ok, text = pcall(logs_of, st)
    if ok then
      -- The last 40 lines of each log.
      local blocks, cur = {}, nil
      for l in text:gmatch("[^\n]+") do
        if l:match("^==> .* <==$") then
          cur = {l}
          blocks[#blocks + 1] = cur
        elseif cur then
          cur[#cur + 1] = l
        end
      end
      local tail = {}
      for _, b in ipairs(blocks) do
        tail[#tail + 1] = b[1]
        for i = math.max(2, #b - 39), #b do tail[#tail + 1] = b[i] end
      end
      io.stderr:write("\nlocal-aws: a spec failed while the local services ran; last lines of their logs (all of them in ",
        st.statedir, "):\n", table.concat(tail, "\n"), "\n")
    end
  end
  run(tool(st) .. " stop " .. quote(st.statedir))
  if not st.failed and not os.getenv("AWSPROMISE_KEEP_LOCAL_AWS") then
    os.execute("rm -rf " .. quote(st.statedir))
  end
  st.stop_reason = reason
end

-- The spec file that is calling us (its short_src, as busted records in element.trace).
local function calling_spec()
  for level = 3, 40 do
    local info = debug.getinfo(level, "S")
    if not info then break end
    if info.short_src:match("_spec%.lua$") then return info.short_src end
  end
  return nil
end

-- Notes failures in the spec files that use the services (others' failures are none of ours), so
-- that the servers' logs are shown at the end of the run.
local function watch_failures(st)
  local file = calling_spec()
  st.files = st.files or {}
  if file then st.files[file] = true end
  if st.watching then return end
  local ok, busted = pcall(require, "busted")
  if not ok or type(busted) ~= "table" then return end
  st.watching = true
  local function ours(element)
    if type(element) ~= "table" then return false end
    local trace = element.trace
    local src = type(trace) == "table" and trace.short_src
    if src then return st.files[src] == true end
    return element.descriptor == "file" and st.files[element.name] == true
  end
  local function on_end(element, _, status)
    if (status == "failure" or status == "error") and ours(element) then st.failed = true end
    return nil, true
  end
  local function on_error(element)
    if ours(element) then st.failed = true end
    return nil, true
  end
  pcall(busted.subscribe, {"test", "end"}, on_end)
  pcall(busted.subscribe, {"error"}, on_error)
  pcall(busted.subscribe, {"failure"}, on_error)
end

local function handle(st)
  local env = st.env
  local h = {env = env, statedir = st.statedir}
  function h.sign(service)
    return {accessKeyId = env.AWS_ACCESS_KEY_ID, secretAccessKey = env.AWS_SECRET_ACCESS_KEY,
      region = env.AWS_REGION, service = service}
  end
  local endpoints = {
    s3 = {"AWS_ENDPOINT_URL_S3", "AWSPROMISE_TEST_HTTPS_S3"},
    dynamodb = {"AWS_ENDPOINT_URL_DYNAMODB", "AWSPROMISE_TEST_HTTPS_DYNAMODB"},
    ec2 = {"AWS_ENDPOINT_URL_EC2", "AWSPROMISE_TEST_HTTPS_EC2"},
  }
  function h.options(service, opts)
    opts = opts or {}
    local names = endpoints[tostring(service):lower()]
    assert(names, "local_aws.options: no local service " .. tostring(service) .. " (s3, dynamodb, ec2)")
    local o = {
      region = env.AWS_REGION,
      credentials = {accessKeyId = env.AWS_ACCESS_KEY_ID, secretAccessKey = env.AWS_SECRET_ACCESS_KEY},
      endpoint = env[names[opts.https and 2 or 1]],
    }
    if opts.https then o.httpOptions = {caFile = env.AWSPROMISE_TEST_CA} end
    if names[1] == "AWS_ENDPOINT_URL_S3" then o.s3ForcePathStyle = true end
    return o
  end
  return h
end

function M.get()
  local st = state()
  if st.handle then
    watch_failures(st)
    return st.handle
  end
  if st.error then error(st.error, 2) end
  st.root = repo_root()

  local external = os.getenv("AWSPROMISE_LOCAL_AWS")
  if external and external ~= "" then
    local env, err = read_env(external .. "/env")
    if not env then
      st.error = "local_aws: AWSPROMISE_LOCAL_AWS=" .. external .. " but its env file cannot be read (" ..
        tostring(err) .. "); start it with tools/local-aws start " .. external
      error(st.error, 2)
    end
    st.statedir, st.env, st.external = external, env, true
    st.handle = handle(st)
    watch_failures(st)
    return st.handle
  end

  local pid = own_pid()
  local p = io.popen("mktemp -d /tmp/awspromise-local-aws.XXXXXX")
  local dir = p and p:read("l")
  if p then p:close() end
  if not pid or not dir or dir == "" then
    st.error = "local_aws: cannot set up (no /proc/self/stat or mktemp failed)"
    error(st.error, 2)
  end
  st.statedir = dir
  local t0 = os.time()
  local ok, out = run(tool(st) .. " start " .. quote(dir) .. " --parent " .. pid)
  if not ok then
    st.stopped = true -- start cleans up after itself
    os.execute("rmdir " .. quote(dir) .. " 2>/dev/null") -- only when it stayed empty
    st.error = "local_aws: the local AWS services did not start (tools/local-aws start " .. dir .. "):\n" ..
      out:gsub("%s+$", "")
    error(st.error, 2)
  end
  local env, err = read_env(dir .. "/env")
  if not env or not env.AWS_ENDPOINT_URL_S3 then
    st.error = "local_aws: tools/local-aws start succeeded but wrote no usable env file: " .. tostring(err)
    stop(st, "no env")
    error(st.error, 2)
  end
  st.env = env
  st.start_output = out
  st.start_seconds = os.time() - t0
  -- Collected only when the Lua state closes: the end of the busted run, whatever its outcome.
  st.sentinel = setmetatable({}, {__gc = function() pcall(stop, st, "exit") end})
  st.handle = handle(st)
  watch_failures(st)
  return st.handle
end

function M.logs()
  return logs_of(state())
end

function M.stop()
  local st = state()
  stop(st, "stop()")
  if st.handle then
    st.handle = nil
    st.error = "local_aws: the local services were stopped by local_aws.stop()"
  end
end

-- The output of tools/local-aws start (ports, start time), or nil when not started here.
function M.summary()
  return state().start_output
end

return M
