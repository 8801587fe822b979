-- The botocore cross-checks' python: Debian's /usr/bin/python3 with python3-botocore.
--
--   local PY = require("support.botocore").python(pending)
--   if not PY then return end
--   PY: the command to run a script with; nil when the check must be skipped, which is printed
--   and marked pending (busted's `pending`, given) with the reason
local botocore = {}

-- LD_PRELOAD is dropped so that a sanitizer runtime preloaded for the specs does not follow python
local PY = "env -u LD_PRELOAD /usr/bin/python3"

local function find()
  if os.getenv("AWSPROMISE_UNDER_VALGRIND") then
    -- python's own allocations would be reported as leaks when valgrind follows children
    return nil, "under valgrind: the botocore cross-check (a python child process) is skipped"
  end
  local probe = io.popen(PY .. ' -c "import botocore.auth; print(42)" 2>/dev/null')
  local have = probe and probe:read("a"):match("42")
  if probe then probe:close() end
  if not have then
    return nil, "/usr/bin/python3 with botocore is not available: the botocore cross-check is skipped"
  end
  return PY
end

function botocore.python(pending)
  local command, why = find()
  if not command then
    print(why)
    pending(why)
  end
  return command
end

return botocore
