-- Bearer tokens (smithy.api#httpBearerAuth, CodeCatalyst's signatureVersion "bearer"), as
-- JavaScript v2's AWS.Token and AWS.StaticTokenProvider: get(cb), getPromise(), refresh(cb),
-- refreshPromise(), needsRefresh(), expired, expireTime (epoch seconds). A subclass (or an
-- instance) with load() returning a promise of {token =, expireTime =} refreshes through it.
--
-- AWS.config.token (or a client's `token`) may be:
--   "text"                                   the token itself
--   {token = "text"[, expiration = t]}       t: epoch seconds or an ISO 8601 / HTTP date
--   AWS.Token{...} or any object with getPromise, needsRefresh and token
--   function() -> promise (or value) of "text" or {token =[, expiration =]}, called when a token
--                  is needed and again once the one it gave expires
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local classes = require "awspromise.credentials.classes"

local token = {}

local function token_error(message, cause)
  return Promise.make_error("TokenError", message, {originalError = cause})
end

-- Epoch seconds from a number, a date string or nil.
local function expiry_of(value)
  if value == nil or type(value) == "number" then return value end
  if type(value) == "string" then
    local t = core.parse_time(value)
    if t then return t end
  end
  error(token_error("token expiration must be epoch seconds or a date, got " .. tostring(value)), 0)
end

-- The fields of a token given as a table: expireTime (JS v2) or expiration.
local function fields_of(value)
  if type(value) == "string" then return value, nil end
  if type(value) ~= "table" then return nil, nil end
  return value.token, expiry_of(value.expireTime or value.expiration)
end

local Token = classes.class("Token", nil, function(self, options)
  self.token, self.expireTime = fields_of(options)
end)
Token.expiryWindow = 15 -- seconds before expireTime when needsRefresh() says yes

Token.__tostring = function(self)
  return ("AWS.%s(%s)"):format(self.className, self.token and "token set" or "no token")
end

function Token:needsRefresh()
  local now = require("awspromise.util").date.getDate()
  if self.expireTime and now + self.expiryWindow > self.expireTime then return true end
  return self.expired == true or type(self.token) ~= "string" or self.token == ""
end

-- refreshPromise(): a promise of the token object once load() (when there is one) gave a new
-- token; concurrent refreshes share one load.
function Token:refreshPromise()
  if self.loading then return self.loading end
  if not self.load then
    self.expired = false
    if type(self.token) ~= "string" or self.token == "" then return Promise.reject(token_error("Missing token")) end
    return Promise.resolve(self)
  end
  local ok, loaded = pcall(self.load, self)
  if not ok then loaded = Promise.reject(loaded) end
  self.loading = Promise.resolve(loaded):next(function(raw)
    self.loading = nil
    self.token, self.expireTime = fields_of(raw)
    self.expired = false
    if type(self.token) ~= "string" or self.token == "" then error(token_error("Missing token"), 0) end
    return self
  end, function(err)
    self.loading = nil
    error(type(err) == "table" and err or token_error("Could not load token: " .. tostring(err)), 0)
  end)
  return self.loading
end

function Token:getPromise()
  if self:needsRefresh() then return self:refreshPromise() end
  return Promise.resolve(self)
end

local function callback_form(method)
  return function(self, callback)
    self[method](self):next(function() if callback then callback(nil) end end,
      function(err) if callback then callback(err) end end)
  end
end
Token.get = callback_form("getPromise")
Token.refresh = callback_form("refreshPromise")

token.Token = Token
token.StaticTokenProvider = classes.class("StaticTokenProvider", Token, function(self, options)
  self.token, self.expireTime = fields_of(options)
end)

-- A function given as the token: a Token that loads through it.
local function_tokens = setmetatable({}, {__mode = "k"})

local function token_object(value)
  if type(value) == "function" then
    local object = function_tokens[value]
    if not object then
      object = Token.new()
      object.load = function() return value() end
      function_tokens[value] = object
    end
    return object
  end
  local ok, usable = pcall(function() return Promise.callable(value.getPromise) and Promise.callable(value.needsRefresh) end)
  return ok and usable and value or nil
end

-- The bearer identity of a client's configuration: {token = "text"} ready now, or nil and a
-- promise of it. Raises (a TokenError) when there is none.
function token.cached(config)
  local value = config.token
  if value == nil or value == false then error(token_error("No token to load: set AWS.config.token"), 0) end
  local object = token_object(value)
  if not object then
    local text, expires = fields_of(value)
    if type(text) ~= "string" or text == "" then error(token_error("Missing token"), 0) end
    if expires and require("awspromise.util").date.getDate() >= expires then
      error(token_error("The token expired at " .. os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(expires))), 0)
    end
    return {token = text}
  end
  if not object:needsRefresh() then return {token = object.token} end
  return nil, object:getPromise():next(function(fresh) return {token = fresh.token} end, function(err)
    error(type(err) == "table" and err or token_error("Could not load token: " .. tostring(err)), 0)
  end)
end

-- What config_keys says of a `token` value it cannot use, or nil.
function token.check(value)
  if type(value) == "string" or type(value) == "function" or token_object(value) then return nil end
  if type(value) == "table" and type(value.token) == "string" then
    local ok, err = pcall(expiry_of, value.expireTime or value.expiration)
    if ok then return nil end
    return err.message
  end
  return "token must be a string, {token =[, expiration =]}, an AWS.Token or a function returning a promise, got "
    .. type(value)
end

return token
