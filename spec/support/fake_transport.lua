-- A stand-in for core.http in unit specs: records a copy of each request (a retry sends the same
-- table again) and answers with queued replies.
--
--   local fake = require "support.fake_transport"
--   before_each(fake.install); after_each(fake.restore)
--   fake.replies[#fake.replies + 1] = {statusCode =, headers =, body =}   -- default 200, empty
--   fake.sent[i]                       -- the i-th request's options (url, headers, body, ...)
--   fake.await(request) -> "fulfilled" | "rejected", value   (drives the loop)
local AWS = require "awspromise"
local core = require "awspromise.core"

local fake = {sent = {}, replies = {}}
local real_http

local function transport(http, done, ctx)
  local copy = {}
  for k, v in pairs(http) do copy[k] = v end
  fake.sent[#fake.sent + 1] = copy
  local reply = table.remove(fake.replies, 1) or {statusCode = 200, headers = {}, body = ""}
  core.resolve(reply):next(function(r) done(ctx, r) end)
  return {abort = function() end}
end

function fake.install()
  fake.sent, fake.replies = {}, {}
  real_http = real_http or core.http
  core.http = transport
end

function fake.restore()
  core.http = real_http
end

function fake.await(request)
  local state, value
  request:promise():next(function(v) state, value = "fulfilled", v end, function(e) state, value = "rejected", e end)
  AWS.run()
  return state, value
end

return fake
