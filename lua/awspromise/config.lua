-- AWS.config: global defaults that service constructors override, and the promise dependency.
local Promise = require "awspromise.promise"
local config_keys = require "awspromise.config_keys"
local settings = require "awspromise.settings"

local config = {}

local function check_dependency(dep)
  if dep == nil then return end
  if Promise.callable(dep) then return end
  if type(dep) == "table" and Promise.callable(dep.new) then return end
  error(Promise.make_error("ConfigError",
    "setPromisesDependency: expected nil, a table with new(executor), or a callable dep(executor); got "
    .. type(dep)), 3)
end

function config.new()
  local dependency
  local cfg = {
    httpOptions = {timeout = 120000},
    paramValidation = true,
    correctClockSkew = false,
  }

  -- Accepts both AWS.config.setPromisesDependency(dep) and AWS.config:setPromisesDependency(dep).
  function cfg.setPromisesDependency(a, ...)
    local dep = a
    if a == cfg and select("#", ...) > 0 then dep = ... end
    if a == cfg and select("#", ...) == 0 then dep = nil end
    check_dependency(dep)
    dependency = dep
  end

  function cfg.getPromisesDependency()
    return dependency
  end

  -- A promise for users: the dependency's when one is set, else ours.
  function cfg.makePromise(executor)
    if dependency == nil then return Promise.new(executor) end
    if type(dependency) == "table" and Promise.callable(dependency.new) then
      return dependency.new(executor)
    end
    return dependency(executor)
  end

  -- Merges options; nested option tables (httpOptions) merge one level deep. Accepts both
  -- AWS.config:update(options[, allowUnknownKeys]) and AWS.config.update(options[, allowUnknownKeys]);
  -- the keys are checked by config_keys.lua.
  function cfg.update(a, ...)
    local self, options, allow_unknown = cfg, a, ...
    if a == cfg then options, allow_unknown = ... end
    if type(options) ~= "table" then
      error(Promise.make_error("ConfigError", "AWS.config:update expects a table, got " .. type(options)), 2)
    end
    options = config_keys.prepare(options, "AWS.config:update", allow_unknown)
    settings.check(options, "AWS.config:update")
    for k, v in pairs(options) do
      if type(v) == "table" and type(self[k]) == "table" and getmetatable(v) == nil and k ~= "credentials" then
        for kk, vv in pairs(v) do self[k][kk] = vv end
      else
        self[k] = v
      end
    end
    return self
  end

  config_keys.install(cfg)
  return cfg
end

return config
