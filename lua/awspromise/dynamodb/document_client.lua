-- AWS.DynamoDB.DocumentClient: DynamoDB with plain Lua values in place of AttributeValues.
-- Which members hold AttributeValues is read from the DynamoDB model itself (every Key, Item,
-- ExpressionAttributeValues, ExclusiveStartKey, RequestItems, TransactItems, and on the way back
-- Item(s), Attributes, LastEvaluatedKey, UnprocessedItems...), so no member is forgotten.
--
-- Each operation returns the DynamoDB client's own Request, made through a view of that client
-- whose validateParams and buildHttp marshal the parameters and whose requests unmarshal their data: a
-- request's params stay in Lua form, so that any next-page request made from them (eachPage,
-- where the Request offers it) is translated the same way.
local core = require "awspromise.core"
local Promise = require "awspromise.promise"
local Converter = require "awspromise.dynamodb.converter"

local make_error = Promise.make_error

local OPERATIONS = {
  get = "GetItem", put = "PutItem", update = "UpdateItem", delete = "DeleteItem",
  query = "Query", scan = "Scan", batchGet = "BatchGetItem", batchWrite = "BatchWriteItem",
  transactGet = "TransactGetItems", transactWrite = "TransactWriteItems",
}

-- Options of the DocumentClient itself, not of the DynamoDB client it makes.
local OWN_OPTIONS = {service = true, params = true, convertEmptyValues = true, wrapNumbers = true}

-- ---------------------------------------------------------------- plans from the model

local ATTRIBUTE_MEMBERS = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"}

local function is_attribute_value(shape)
  if shape.type ~= "structure" or type(shape.members) ~= "table" then return false end
  local count = 0
  for _ in pairs(shape.members) do count = count + 1 end
  if count ~= #ATTRIBUTE_MEMBERS then return false end
  for _, name in ipairs(ATTRIBUTE_MEMBERS) do
    if not shape.members[name] then return false end
  end
  return true
end

local ATTRIBUTE = {attribute = true}

-- A plan mirrors a shape, keeping only the branches that lead to AttributeValues:
-- ATTRIBUTE | {members = {name = plan}} | {list = plan} | {map = plan} | nil.
local function plan_for(ref, shapes, memo)
  local name = ref.shape
  local shape = name and shapes[name] or ref
  if name then
    local known = memo[name]
    if known ~= nil then return known or nil end
    memo[name] = false -- a recursive shape without attribute values below ends here
  end
  local plan
  if is_attribute_value(shape) then
    plan = ATTRIBUTE
  elseif shape.type == "structure" and shape.members then
    local members
    for member, member_ref in pairs(shape.members) do
      local p = plan_for(member_ref, shapes, memo)
      if p then
        members = members or {}
        members[member] = p
      end
    end
    plan = members and {members = members}
  elseif shape.type == "list" and shape.member then
    local p = plan_for(shape.member, shapes, memo)
    plan = p and {list = p}
  elseif shape.type == "map" and shape.value then
    local p = plan_for(shape.value, shapes, memo)
    plan = p and {map = p}
  end
  if name then memo[name] = plan or false end
  return plan
end

local plans_by_version = {}

-- {Operation = {input = plan, output = plan}} for a DynamoDB model version (read once).
local function plans_for(version)
  local plans = plans_by_version[version]
  if plans then return plans end
  local models = require "awspromise.models"
  local model = core.json_decode(models.read("dynamodb", version))
  local memo = {}
  plans = {}
  for op, spec in pairs(model.operations) do
    plans[op] = {
      input = spec.input and plan_for(spec.input, model.shapes, memo),
      output = spec.output and plan_for(spec.output, model.shapes, memo),
    }
  end
  plans_by_version[version] = plans
  return plans
end

-- ---------------------------------------------------------------- translation

local function join(path, key)
  if type(key) == "number" then return path .. "[" .. key .. "]" end
  return path == "" and key or path .. "." .. key
end

-- A copy of value with every attribute along plan converted by convert(v, path); the caller's
-- tables are never changed.
local function translate(value, plan, convert, path)
  if value == nil then return nil end
  if plan == ATTRIBUTE then return convert(value, path) end
  if type(value) ~= "table" then return value end
  local out = {}
  if plan.members then
    for k, v in pairs(value) do
      local p = plan.members[k]
      out[k] = p and translate(v, p, convert, join(path, k)) or v
    end
  elseif plan.list then
    for i, v in ipairs(value) do out[i] = translate(v, plan.list, convert, join(path, i)) end
  else
    for k, v in pairs(value) do out[k] = translate(v, plan.map, convert, join(path, k)) end
  end
  return out
end

-- ---------------------------------------------------------------- the client

local DocumentClient = {}
DocumentClient.__index = DocumentClient

local function copy_options(options)
  local out = {}
  for k, v in pairs(options) do
    if not OWN_OPTIONS[k] then out[k] = v end
  end
  return out
end

-- A view of the DynamoDB client: reads and writes go to the client; building marshals, and
-- each request it makes unmarshals its data before anyone sees it.
local function translating_view(client, service)
  local plans = plans_for(service.api.apiVersion)
  local input_options = {convertEmptyValues = client.options.convertEmptyValues}
  local output_options = {wrapNumbers = client.options.wrapNumbers}
  local function marshal(v, path) return Converter.input(v, input_options, path) end
  local function unmarshal(v) return Converter.output(v, output_options) end
  local view = {}

  -- validateParams and buildHttp both see the marshalled params: made once per params table.
  local marshalled = setmetatable({}, {__mode = "k"})
  local function marshalled_params(operation, params)
    local name = type(operation) == "table" and operation.name or operation
    local plan = plans[name] and plans[name].input
    if not plan or type(params) ~= "table" then return params end
    local done = marshalled[params]
    if not done then
      done = translate(params, plan, marshal, "params")
      marshalled[params] = done
    end
    return done
  end

  function view.validateParams(self, operation, params)
    return service.validateParams(self, operation, marshalled_params(operation, params))
  end

  function view.buildHttp(self, operation, params)
    return service.buildHttp(self, operation, marshalled_params(operation, params))
  end

  function view.makeRequest(self, operation, params, callback)
    local request = service.makeRequest(self, operation, params)
    local plan = plans[operation] and plans[operation].output
    if plan then
      request:on("success", function(response)
        local data = response.data
        if type(data) ~= "table" then return end
        for member, p in pairs(plan.members) do
          if data[member] ~= nil then data[member] = translate(data[member], p, unmarshal, member) end
        end
      end)
    end
    if callback ~= nil then request:send(callback) end
    return request
  end

  return setmetatable(view, {__index = service, __newindex = service})
end

-- DocumentClient.new(makeDynamoDB, options): makeDynamoDB(options) makes the client to wrap
-- unless options.service is one already.
function DocumentClient.new(make_dynamodb, options)
  if options ~= nil and type(options) ~= "table" then
    error(make_error("ConfigError", "DocumentClient options must be a table, got " .. type(options)), 3)
  end
  options = options or {}
  if options.params ~= nil and type(options.params) ~= "table" then
    error(make_error("ConfigError", "DocumentClient options.params must be a table of default parameters"), 3)
  end
  local service = options.service or make_dynamodb(copy_options(options))
  local self = setmetatable({options = options, service = service}, DocumentClient)
  self.view = translating_view(self, service)
  return self
end

local function with_defaults(defaults, params)
  if not defaults then return params end
  local merged = {}
  for k, v in pairs(defaults) do merged[k] = v end
  for k, v in pairs(params or {}) do merged[k] = v end
  return merged
end

-- documentClient:makeServiceRequest("GetItem", params[, callback]): any DynamoDB operation.
function DocumentClient:makeServiceRequest(operation, params, callback)
  if params ~= nil and type(params) ~= "table" then
    error(make_error("InvalidParameterType", "Expected params to be a table, got " .. type(params)), 2)
  end
  return self.view:makeRequest(operation, with_defaults(self.options.params, params), callback)
end

for method, operation in pairs(OPERATIONS) do
  DocumentClient[method] = function(self, params, callback)
    return self:makeServiceRequest(operation, params, callback)
  end
end

-- documentClient:createSet({...}[, {validate = false}]): an SS, NS or BS value.
function DocumentClient.createSet(_, values, options)
  return Converter.set(values, options)
end

-- documentClient:createBinary(bytes): a B value (plain strings are S).
function DocumentClient.createBinary(_, bytes)
  return Converter.binary(bytes)
end

function DocumentClient.__tostring()
  return "AWS.DynamoDB.DocumentClient"
end

return DocumentClient
