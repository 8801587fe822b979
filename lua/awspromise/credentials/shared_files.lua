-- Credentials from the shared files (~/.aws/config, ~/.aws/credentials) through the selected
-- profile: static keys, role_arn with source_profile or credential_source,
-- web_identity_token_file, credential_process.
local Promise = require "awspromise.promise"
local context = require "awspromise.credentials.context"
local sts = require "awspromise.credentials.sts"

local failed = context.failed
local shared_files = {}

-- The static keys of profile `p`: nil when it has none, nil and why when it has half of them.
local function static_of(p, name)
  local id, secret = p.aws_access_key_id, p.aws_secret_access_key
  if not id and not secret then return nil end
  if not id or not secret or id == "" or secret == "" then
    return nil, ("profile '%s' has only one of aws_access_key_id and aws_secret_access_key"):format(name)
  end
  return {accessKeyId = id, secretAccessKey = secret,
    sessionToken = p.aws_session_token ~= "" and p.aws_session_token or nil}
end

-- credential_source values (lower-cased) and the providers they name.
local CREDENTIAL_SOURCES = {
  environment = require("awspromise.credentials.env").resolve,
  ec2instancemetadata = require("awspromise.credentials.remote").imds,
  ecscontainer = require("awspromise.credentials.remote").container,
}

local function credential_source(ctx, source)
  local resolve = CREDENTIAL_SOURCES[source:lower()]
  if not resolve then
    return failed(("credential_source %s is not one of Environment, Ec2InstanceMetadata, EcsContainer"):format(source))
  end
  local p, reason = resolve(ctx)
  if not p then return failed(("credential_source %s: %s"):format(source, reason)) end
  return p
end

-- Resolves profile `name`; `chain` lists the profiles already on the way (cycle detection);
-- `first` is the profile the user selected (a source profile prefers its static keys).
local function resolve_profile(ctx, name, chain, first)
  local shared = ctx:shared()
  local p = shared:get(name)
  if not p then
    return failed(("source_profile '%s' (from profile '%s') is not in %s"):format(name, chain[#chain],
      shared:describe()))
  end
  for _, seen in ipairs(chain) do
    if seen == name then
      return failed(("source_profile cycle: %s -> %s"):format(table.concat(chain, " -> "), name))
    end
  end
  chain[#chain + 1] = name
  ctx:secret(p.aws_secret_access_key)
  ctx:secret(p.aws_session_token)
  local static, serr = static_of(p, name)
  if serr then return failed(serr) end
  if static and not first then return Promise.resolve(static) end
  if p.role_arn then
    if p.web_identity_token_file then
      return sts.web_identity(ctx, p.role_arn, p.web_identity_token_file, p.role_session_name, ctx:region(p))
    end
    if p.source_profile and p.credential_source then
      return failed(("profile '%s' sets both source_profile and credential_source"):format(name))
    end
    if p.source_profile then
      local source
      if p.source_profile == name and static then -- a profile may assume a role with its own keys
        source = Promise.resolve(static)
      else
        source = resolve_profile(ctx, p.source_profile, chain, false)
      end
      return sts.assume_role(ctx, p, name, source)
    end
    if p.credential_source then
      return sts.assume_role(ctx, p, name, credential_source(ctx, p.credential_source))
    end
    return failed(("profile '%s' sets role_arn without source_profile, credential_source or " ..
      "web_identity_token_file"):format(name))
  end
  if static then return Promise.resolve(static) end
  if p.credential_process and p.credential_process ~= "" then
    -- loaded on first use: few profiles run a command
    return require("awspromise.credentials.process").credentials(ctx, p.credential_process, name)
  end
  if p.sso_session or p.sso_start_url or p.sso_account_id then
    return require("awspromise.credentials.sso").resolve_profile(ctx, p, name)
  end
  if first then
    return nil, ("profile '%s' has no credentials (no aws_access_key_id, role_arn, credential_process " ..
      "or web_identity_token_file)"):format(name)
  end
  return failed(("source profile '%s' has no credentials"):format(name))
end

-- The chain's "shared files" provider: the selected profile.
function shared_files.resolve(ctx)
  local shared = ctx:shared()
  if not shared:get() then
    local msg = ("no profile '%s' in %s"):format(shared.name, shared:describe())
    if shared.nameSource then return failed(msg .. " (selected by " .. shared.nameSource .. ")") end
    return nil, msg
  end
  return resolve_profile(ctx, shared.name, {}, true)
end

return shared_files
