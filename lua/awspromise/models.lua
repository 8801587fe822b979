-- The shipped AWS service models (the JavaScript SDK v2's apis/ folder, see models/NOTICE):
-- where they are, which versions exist, which one an apiVersion picks, and their text.
--
--   models.dir()                              -> the models directory (raises ModelError if none)
--   models.services()                         -> metadata.json decoded: id -> {name=, prefix=, cors=, ...}
--   models.service(id)                        -> one entry of it (raises ConfigError for an unknown id)
--   models.id_for_class(className)            -> the id whose class name is className, or nil
--   models.prefix(id)                         -> the file name prefix of id (metadata prefix, else the id)
--   models.versions(id)                       -> sorted list of the shipped api versions of id
--   models.pick(id, apiVersion)               -> the version to use (see below)
--   models.path(id, version[, kind])          -> file path of <prefix>-<version>.<kind>.json (kind "min")
--   models.read(id[, version])                -> the min.json text (version nil: the newest)
--   models.read_extra(id, version, kind)      -> the "paginators" or "waiters2" text, nil if not shipped
--   models.definitions(client, kind)          -> a client's paginators or waiters (kind "paginators" or
--                                                "waiters"): name -> definition as in the JSON file,
--                                                decoded once per model; {} when there are none
--   models.read_data(name)                    -> text of another data file of the directory, e.g.
--                                                "region_config_data.json"
--
-- pick: apiVersion nil or "latest" -> the newest shipped version; a date "YYYY-MM-DD" -> the newest
-- shipped version not newer than that date, or the oldest one when the date is older than every
-- shipped version. Anything else raises a ConfigError naming the service and its shipped versions.
--
-- Where the directory is: $AWSPROMISE_MODELS when set; else "<dir of this file>/models" (the
-- installed layout, $(INST_LUADIR)/awspromise/models/); else "<dir of this file>/../../models"
-- (the source tree: lua/awspromise/models.lua and models/ at the repository root).
--
-- Lazy: nothing is read before it is asked for; metadata.json and index.json (prefix -> versions,
-- written by tools/fetch-models from the file names) are decoded once per Lua state.
local make_error = require("awspromise.promise").make_error

local M = {}

local model_dir          -- resolved directory, once
local metadata           -- decoded metadata.json, once
local version_index      -- decoded index.json (prefix -> sorted versions), once
local class_ids          -- class name -> id, once

local function fail(code, message, level)
  error(make_error(code, message), (level or 1) + 1)
end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  return text
end

local function this_dir()
  local source = debug.getinfo(1, "S").source
  local file = source:sub(1, 1) == "@" and source:sub(2) or nil
  if not file then
    file = package.searchpath("awspromise.models", package.path)
  end
  if not file then return nil end
  return file:match("^(.*)[/\\][^/\\]*$") or "."
end

-- "/a/lua/awspromise/../../models" -> "/a/models" (for messages; the paths work either way).
local function tidy(path)
  local out = {}
  for seg in path:gmatch("[^/]+") do
    if seg == ".." and #out > 0 and out[#out] ~= ".." then
      out[#out] = nil
    elseif seg ~= "." then
      out[#out + 1] = seg
    end
  end
  local s = table.concat(out, "/")
  if path:sub(1, 1) == "/" then return "/" .. s end
  return s == "" and "." or s
end

local function candidates()
  local list = {}
  local env = os.getenv("AWSPROMISE_MODELS")
  if env and env ~= "" then
    list[1] = env:gsub("[/\\]+$", "")
    return list, true
  end
  local dir = this_dir()
  if dir then
    list[#list + 1] = dir .. "/models"
    list[#list + 1] = tidy(dir .. "/../../models")
  end
  -- The module found through package.path, if it is another copy than this one.
  local found = package.searchpath("awspromise.models", package.path)
  local other = found and found:match("^(.*)[/\\][^/\\]*$")
  if other and other ~= dir then
    list[#list + 1] = other .. "/models"
    list[#list + 1] = tidy(other .. "/../../models")
  end
  return list, false
end

function M.dir()
  if model_dir then return model_dir end
  local list, from_env = candidates()
  for _, dir in ipairs(list) do
    if file_exists(dir .. "/metadata.json") then
      model_dir = dir
      return dir
    end
  end
  if from_env then
    fail("ModelError", "AWSPROMISE_MODELS=" .. list[1] .. " has no metadata.json", 2)
  end
  fail("ModelError", "the AWS service models were not found (looked for metadata.json in "
    .. table.concat(list, ", ") .. "; set AWSPROMISE_MODELS to the models directory)", 2)
end

local function decode_file(name, level)
  local path = M.dir() .. "/" .. name
  local text, err = read_file(path)
  if not text then fail("ModelError", "cannot read " .. path .. ": " .. tostring(err), level + 1) end
  local core = require("awspromise.core")
  local ok, value = pcall(core.json_decode, text)
  if not ok or type(value) ~= "table" then
    fail("ModelError", path .. " is not a JSON object: " .. tostring(value), level + 1)
  end
  return value
end

function M.services()
  if not metadata then metadata = decode_file("metadata.json", 2) end
  return metadata
end

function M.service(id)
  if type(id) ~= "string" then
    fail("ConfigError", "a service id must be a string, got " .. type(id), 2)
  end
  local entry = M.services()[id]
  if type(entry) ~= "table" then
    fail("ConfigError", "unknown service id '" .. id .. "' (not in the shipped models' metadata.json)", 2)
  end
  return entry
end

function M.id_for_class(name)
  if not class_ids then
    local index = {}
    for id, entry in pairs(M.services()) do
      if type(entry) == "table" and type(entry.name) == "string" then index[entry.name] = id end
    end
    class_ids = index
  end
  return class_ids[name]
end

function M.prefix(id)
  local entry = M.service(id)
  return type(entry.prefix) == "string" and entry.prefix or id
end

local DATE = "^(%d%d%d%d)%-(%d%d)%-(%d%d)$"

local function scan_dir(dir)
  -- Only when index.json is missing (a hand-made models directory): list the directory.
  local index = {}
  local p = io.popen('ls -1 "' .. dir:gsub('(["\\$`])', "\\%1") .. '" 2>/dev/null')
  if not p then return index end
  for name in p:lines() do
    local prefix, version = name:match("^(.+)%-(%d%d%d%d%-%d%d%-%d%d)%.min%.json$")
    if prefix then
      local list = index[prefix] or {}
      list[#list + 1] = version
      index[prefix] = list
    end
  end
  p:close()
  for _, list in pairs(index) do table.sort(list) end
  return index
end

local function versions_of(id, level)
  if not version_index then
    local dir = M.dir()
    if file_exists(dir .. "/index.json") then
      version_index = decode_file("index.json", level + 1)
    else
      version_index = scan_dir(dir)
    end
  end
  local entry = M.service(id)
  local prefix = type(entry.prefix) == "string" and entry.prefix or id
  local list = version_index[prefix]
  if type(list) ~= "table" or #list == 0 then
    fail("ModelError", "no model file is shipped for service '" .. id .. "' (" .. prefix .. "-*.min.json in "
      .. M.dir() .. ")", level + 1)
  end
  return list, prefix
end

function M.versions(id)
  local list = versions_of(id, 2)
  local copy = {}
  for i, v in ipairs(list) do copy[i] = v end
  return copy
end

local function valid_date(s)
  local y, m, d = s:match(DATE)
  if not y then return false end
  m, d = tonumber(m), tonumber(d)
  return m >= 1 and m <= 12 and d >= 1 and d <= 31
end

function M.pick(id, apiVersion)
  local list = versions_of(id, 2)
  if apiVersion == nil or apiVersion == "latest" then return list[#list] end
  if type(apiVersion) ~= "string" or not valid_date(apiVersion) then
    local shown = type(apiVersion) == "string" and ("'" .. apiVersion .. "'") or ("a " .. type(apiVersion))
    fail("ConfigError", "invalid apiVersion " .. shown .. " for service '" .. id
      .. "': expected a date YYYY-MM-DD or 'latest'; shipped versions: " .. table.concat(list, ", "), 2)
  end
  local chosen = list[1]
  for _, v in ipairs(list) do
    if v <= apiVersion then chosen = v else break end
  end
  return chosen
end

local function shipped(id, version, level)
  local list, prefix = versions_of(id, level + 1)
  if version == nil then return list[#list], prefix end
  for _, v in ipairs(list) do
    if v == version then return v, prefix end
  end
  fail("ConfigError", "service '" .. id .. "' has no shipped model version '" .. tostring(version)
    .. "'; shipped versions: " .. table.concat(list, ", "), level + 1)
end

local KINDS = {min = true, paginators = true, waiters2 = true}

function M.path(id, version, kind)
  kind = kind or "min"
  if not KINDS[kind] then
    fail("ConfigError", "unknown model file kind '" .. tostring(kind) .. "' (min, paginators or waiters2)", 2)
  end
  local v, prefix = shipped(id, version, 2)
  return M.dir() .. "/" .. prefix .. "-" .. v .. "." .. kind .. ".json"
end

function M.read(id, version)
  local path = M.path(id, version, "min")
  local text, err = read_file(path)
  if not text then fail("ModelError", "cannot read " .. path .. ": " .. tostring(err), 2) end
  return text
end

function M.read_extra(id, version, kind)
  if kind ~= "paginators" and kind ~= "waiters2" then
    fail("ConfigError", "read_extra: kind must be 'paginators' or 'waiters2', got " .. tostring(kind), 2)
  end
  local path = M.path(id, version, kind)
  return (read_file(path))
end

-- The decoded extras: "id@version" -> {paginators =, waiters =}.
local extras = {}

local EXTRA_FILES = {paginators = {"paginators", "pagination"}, waiters = {"waiters2", "waiters"}}

local function shipped_definitions(id, version, kind)
  local key = id .. "@" .. version
  local entry = extras[key]
  if not entry then
    entry = {}
    extras[key] = entry
  end
  local found = entry[kind]
  if found then return found end
  local file, field = EXTRA_FILES[kind][1], EXTRA_FILES[kind][2]
  local text = M.read_extra(id, version, file)
  found = {}
  if text then
    local ok, decoded = pcall(require("awspromise.core").json_decode, text)
    if not ok or type(decoded) ~= "table" then
      fail("ModelError", M.path(id, version, file) .. " is not a JSON object: " .. tostring(decoded), 3)
    end
    if kind == "waiters" and decoded.version ~= 2 then
      fail("ModelError", M.path(id, version, file) .. " is not a version 2 waiters file", 3)
    end
    found = type(decoded[field]) == "table" and decoded[field] or {}
  end
  entry[kind] = found
  return found
end

-- A client of a shipped model (client.modelVersion, set by Service.new) reads the model's files;
-- a client of AWS.Service{apiConfig = table} uses the table's `paginators` and `waiters` (as
-- in the JavaScript SDK, either the map itself or the whole file's object).
function M.definitions(client, kind)
  if not EXTRA_FILES[kind] then
    fail("ConfigError", "definitions: kind must be 'paginators' or 'waiters', got " .. tostring(kind), 2)
  end
  if client.modelVersion then return shipped_definitions(client.serviceIdentifier, client.modelVersion, kind) end
  local api = client.config and client.config.apiConfig
  local given = type(api) == "table" and api[kind]
  if type(given) ~= "table" then return {} end
  local field = EXTRA_FILES[kind][2]
  return type(given[field]) == "table" and given[field] or given
end

function M.read_data(name)
  if type(name) ~= "string" or name:find("[/\\]") or name:sub(1, 1) == "." then
    fail("ConfigError", "read_data: a plain file name is expected, got " .. tostring(name), 2)
  end
  local path = M.dir() .. "/" .. name
  local text, err = read_file(path)
  if not text then fail("ModelError", "cannot read " .. path .. ": " .. tostring(err), 2) end
  return text
end

return M
