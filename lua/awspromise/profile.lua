-- Shared config and credentials files (~/.aws/config, ~/.aws/credentials) and region resolution.
--
-- Every function takes an `opts` table (all fields optional):
--   env              where environment variables come from: a table {NAME = "value"} (only those
--                    variables exist: nothing is read from the real environment), or a function
--                    name -> value; default os.getenv
--   profile          the profile name; default AWS_PROFILE, then AWS_DEFAULT_PROFILE, then "default"
--   region           an explicit region (wins over everything)
--   configFile       path of the config file; default AWS_CONFIG_FILE, then ~/.aws/config
--   credentialsFile  path of the credentials file; default AWS_SHARED_CREDENTIALS_FILE, then
--                    ~/.aws/credentials
--
-- File format: INI. In the config file a profile is `[profile name]` (or `[default]`); in the
-- credentials file it is `[name]`. Lines starting with # or ; are comments, also after a section
-- header. Keys are case-insensitive (stored lower-case). A key with an empty value followed by
-- indented `k = v` lines is a sub-section (`s3 =\n  addressing_style = path` gives
-- profile.s3 = {addressing_style = "path"}); other indented lines continue the previous value.
-- For the same profile and key, the credentials file wins over the config file.
local Promise = require "awspromise.promise"

local profile = {}

-- The environment reader of opts: a function name -> value or nil. Empty values count as unset.
function profile.getenv(opts)
  local env = opts and opts.env
  local get
  if env == nil then
    get = os.getenv
  elseif type(env) == "table" then
    get = function(name)
      local v = env[name]
      if v == false then return nil end
      return v
    end
  elseif Promise.callable(env) then
    get = env
  else
    error(Promise.make_error("ConfigError", "opts.env must be a table or a function, got " .. type(env)), 3)
  end
  return function(name)
    local v = get(name)
    if v == nil or v == "" then return nil end
    return tostring(v)
  end
end

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- Parses INI text into {section name -> {key -> value or sub-table}}, section names as written
-- (without the brackets, inner blanks collapsed).
function profile.parse(text)
  local sections, order = {}, {}
  local current, last_key
  for raw in (text .. "\n"):gmatch("(.-)\r?\n") do
    local indented = raw:match("^[ \t]") ~= nil
    local line = trim(raw)
    if line == "" or line:match("^[#;]") then
      -- blank or comment
    elseif not indented and line:match("^%[") then
      local name = line:match("^%[([^%]]*)%]%s*$") or line:match("^%[([^%]]*)%]%s*[#;]")
      if name then
        name = trim(name):gsub("%s+", " ")
        if not sections[name] then
          sections[name] = {}
          order[#order + 1] = name
        end
        current, last_key = sections[name], nil
      else
        current, last_key = nil, nil -- a malformed header: ignore until the next good one
      end
    elseif current then
      local key, value = line:match("^([^=]-)%s*=%s*(.*)$")
      if indented and last_key and type(current[last_key]) == "table" and key then
        current[last_key][key:lower()] = value
      elseif indented and last_key and type(current[last_key]) == "string" and current[last_key] == ""
          and key then
        current[last_key] = {[key:lower()] = value}
      elseif indented and last_key and type(current[last_key]) == "string" then
        current[last_key] = current[last_key] .. "\n" .. line
      elseif key and key ~= "" then
        last_key = key:lower()
        current[last_key] = value
      end
    end
  end
  return sections, order
end

local function expand_home(path, getenv)
  if path:sub(1, 1) == "~" and (path:sub(2, 2) == "/" or #path == 1) then
    local home = getenv("HOME")
    if home then return home .. path:sub(2) end
  end
  return path
end

-- The two file paths: config, credentials (nil when neither a variable nor HOME gives one).
function profile.paths(opts)
  opts = opts or {}
  local getenv = profile.getenv(opts)
  local home = getenv("HOME")
  local function pick(explicit, var, default_name)
    local p = explicit or getenv(var)
    if p then return expand_home(p, getenv) end
    if home then return home .. "/.aws/" .. default_name end
    return nil
  end
  return pick(opts.configFile, "AWS_CONFIG_FILE", "config"),
         pick(opts.credentialsFile, "AWS_SHARED_CREDENTIALS_FILE", "credentials")
end

-- The selected profile name and where the choice came from.
function profile.name(opts)
  opts = opts or {}
  if opts.profile then return opts.profile, "the profile option" end
  local getenv = profile.getenv(opts)
  local p = getenv("AWS_PROFILE")
  if p then return p, "AWS_PROFILE" end
  p = getenv("AWS_DEFAULT_PROFILE")
  if p then return p, "AWS_DEFAULT_PROFILE" end
  return "default", nil
end

local function read_file(path)
  if not path then return nil, "no path (HOME is not set)" end
  local f, err = io.open(path, "rb")
  if not f then
    err = tostring(err)
    if err:find("No such file", 1, true) then return nil, "not found" end
    return nil, err
  end
  local text, rerr = f:read("a")
  f:close()
  if not text then return nil, tostring(rerr) end
  return text
end

local Shared = {}
Shared.__index = Shared

-- Reads and parses both files. Returns a Shared object:
--   shared.name                 the selected profile name
--   shared.profiles[name]       merged profile tables (credentials file over config file)
--   shared.sections             non-profile sections of the config file ("sso-session x", ...)
--   shared.configFile, shared.credentialsFile     the paths
--   shared.status[path]         "read" or why it was not ("not found", a permission error, ...)
-- Missing or unreadable files are not an error: they simply hold no profile.
function profile.load(opts)
  opts = opts or {}
  local config_path, credentials_path = profile.paths(opts)
  local shared = setmetatable({
    profiles = {}, sections = {}, status = {},
    configFile = config_path, credentialsFile = credentials_path,
  }, Shared)
  shared.name, shared.nameSource = profile.name(opts)

  local function merge(name, values)
    local p = shared.profiles[name]
    if not p then
      p = {}
      shared.profiles[name] = p
    end
    for k, v in pairs(values) do p[k] = v end
  end

  local text, err = read_file(config_path)
  if config_path then shared.status[config_path] = text and "read" or err end
  if text then
    local sections, order = profile.parse(text)
    for _, section in ipairs(order) do
      local values = sections[section]
      if section == "default" then
        merge("default", values)
      elseif section:match("^profile ") then
        merge(section:sub(9), values)
      else
        shared.sections[section] = values
      end
    end
  end
  text, err = read_file(credentials_path)
  if credentials_path then shared.status[credentials_path] = text and "read" or err end
  if text then
    local sections, order = profile.parse(text)
    for _, section in ipairs(order) do merge(section, sections[section]) end
  end
  return shared
end

-- The profile table of `name` (default: the selected one), or nil.
function Shared:get(name)
  return self.profiles[name or self.name]
end

-- "~/.aws/config (not found) and ~/.aws/credentials (read)": what was looked at.
function Shared:describe()
  local parts = {}
  for _, path in ipairs {self.configFile, self.credentialsFile} do
    parts[#parts + 1] = ("%s (%s)"):format(path, self.status[path] or "?")
  end
  if #parts == 0 then return "no shared files (HOME, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE are unset)" end
  return table.concat(parts, " and ")
end

-- Resolves the region: opts.region, AWS_REGION, AWS_DEFAULT_REGION, then `region` in the selected
-- profile. Returns region, source, or nil and a ConfigError naming everything that was looked at.
-- opts.shared may carry an already loaded Shared object.
function profile.region(opts)
  opts = opts or {}
  if opts.region ~= nil and opts.region ~= "" then
    if type(opts.region) ~= "string" then
      return nil, Promise.make_error("ConfigError", "region must be a string, got " .. type(opts.region))
    end
    return opts.region, "the region option"
  end
  local getenv = profile.getenv(opts)
  for _, var in ipairs {"AWS_REGION", "AWS_DEFAULT_REGION"} do
    local v = getenv(var)
    if v then return v, var end
  end
  local shared = opts.shared or profile.load(opts)
  local p = shared:get()
  if p and type(p.region) == "string" and p.region ~= "" then
    return p.region, ("profile '%s'"):format(shared.name)
  end
  return nil, Promise.make_error("ConfigError", ("Missing region: looked at the region option, AWS_REGION, " ..
    "AWS_DEFAULT_REGION and 'region' in profile '%s'%s in %s"):format(
      shared.name, p and "" or " (no such profile)", shared:describe()))
end

return profile
