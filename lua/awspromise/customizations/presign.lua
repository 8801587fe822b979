-- Presigned GET URLs for the customizations: another region's copy of an operation (EC2
-- copySnapshot, RDS cross-region operations), RDS auth tokens, Polly speech URLs.
local core = require "awspromise.core"
local signer = require "awspromise.signer"

local presign = {}

-- The endpoint of service in another region: scheme://host, signing region and name.
function presign.endpoint_in(service, region)
  local endpoints = require "awspromise.endpoints"
  local api = service.api
  local ep = endpoints.resolve {
    serviceId = service.serviceIdentifier, sdkServiceId = api.serviceId, endpointPrefix = api.endpointPrefix,
    signingName = api.signingName, globalEndpoint = api.globalEndpoint, region = region,
    useFipsEndpoint = service.config.useFipsEndpoint, useDualstackEndpoint = service.config.useDualstackEndpoint,
  }
  local origin, host = ep.url:match("^(%a[%w+.-]*://([^/]+))")
  return {origin = origin, host = host, region = ep.signingRegion or region, service = ep.signingName}
end

-- https://host/path?query&X-Amz-...: query is the request's own (already encoded) query.
function presign.url(origin, host, path, query, creds, region, service_name, expires)
  local signed = signer.sign({method = "GET", path = path, query = query, headers = {{"Host", host}}},
    creds, {region = region, service = service_name, presign = expires or 900})
  return origin .. signed.url
end

-- The operation with params as a presigned GET in region (its form body as the query).
function presign.operation_url(service, operation, params, region, creds, extra_query)
  local built = core.build_request(service.model, operation, params)
  local ep = presign.endpoint_in(service, region)
  local query = built.body or ""
  if extra_query then query = query .. "&" .. extra_query end
  return presign.url(ep.origin, ep.host, "/", query, creds, ep.region, ep.service, 3600)
end

-- Rebuilds the request's body from params just before it is signed (when credentials are
-- known): add(params_copy, creds) fills in the presigned member.
function presign.on_sign(service, request, add)
  request:on("sign", function(req)
    local http = req.httpRequest
    if not req.credentials then return end
    local params = {}
    for k, v in pairs(req.params) do params[k] = v end
    add(params, req.credentials)
    local rebuilt = service.buildHttpRequest(service, req.operation, params)
    http.body, http.headers = rebuilt.body, rebuilt.headers
  end)
end

return presign
