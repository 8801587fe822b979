-- The failing allocator's workload (tools/oom/oom.c): a representative request of each protocol,
-- built and parsed with no network, and a promise chain run on the loop. It must not catch
-- errors: the harness judges how each run ends.
local core = require "awspromise.core"

local function model(protocol, extra)
  return core.model_load(([[{"metadata": {"protocol": "%s", "jsonVersion": "1.1", "targetPrefix": "T",
    "endpointPrefix": "t", "apiVersion": "2020-01-01", "serviceId": "T"%s},
    "operations": {"Op": {"name": "Op", "http": {"method": "POST", "requestUri": "/{Id}"},
      "input": {"shape": "In"}, "output": {"shape": "Out"}}},
    "shapes": {
      "In": {"type": "structure", "required": ["Id"], "members": {
        "Id": {"shape": "S", "location": "uri", "locationName": "Id"},
        "Name": {"shape": "S"}, "When": {"shape": "T"}, "Tags": {"shape": "M"}, "Items": {"shape": "L"}}},
      "Out": {"type": "structure", "members": {"Name": {"shape": "S"}, "Count": {"shape": "I"},
        "Items": {"shape": "L"}}},
      "M": {"type": "map", "key": {"shape": "S"}, "value": {"shape": "S"}},
      "L": {"type": "list", "member": {"shape": "S"}},
      "S": {"type": "string"}, "I": {"type": "integer"}, "T": {"type": "timestamp"}}}]]):format(protocol, extra or ""))
end

local params = {Id = "id-1", Name = "name", When = 1700000000, Tags = {a = "b"}, Items = {"x", "y"}}
local replies = {
  json = {ok = '{"Name": "n", "Count": 3, "Items": ["a"]}', bad = '{"__type": "Bad", "message": "no"}'},
  ["rest-json"] = {ok = '{"Name": "n", "Count": 3, "Items": ["a"]}', bad = '{"code": "Bad", "message": "no"}'},
  ["rest-xml"] = {ok = "<OpResult><Name>n</Name><Count>3</Count><Items><member>a</member></Items></OpResult>",
    bad = "<Error><Code>Bad</Code><Message>no</Message></Error>"},
  query = {ok = "<OpResponse><OpResult><Name>n</Name><Count>3</Count></OpResult></OpResponse>",
    bad = "<ErrorResponse><Error><Code>Bad</Code><Message>no</Message></Error></ErrorResponse>"},
  ec2 = {ok = "<OpResponse><Name>n</Name><Count>3</Count></OpResponse>",
    bad = "<Response><Errors><Error><Code>Bad</Code><Message>no</Message></Error></Errors></Response>"},
}

for protocol, reply in pairs(replies) do
  local op = core.operation(model(protocol), "Op")
  local invalid = core.validate(op, params)
  if invalid then error(invalid, 0) end -- only an out-of-memory Error may stop it
  local request = core.build_request(op, params)
  assert(request.body)
  local ok, data = core.parse_response(op, {statusCode = 200, headers = {}, body = reply.ok})
  if not ok then error(data, 0) end
  local failed, err = core.parse_response(op, {statusCode = 400, headers = {}, body = reply.bad})
  if failed or err.code ~= "Bad" then error(err, 0) end
end

-- A rejection that is not the one thrown here is an allocation failure: it is raised again.
local seen, failure
local function pass_on(e) failure = failure or e end
core.resolve(1):next(function(v) return v + 1 end):next(function(v) error({code = "Thrown", value = v}) end)
  :catch(function(e)
    if type(e) ~= "table" or e.code ~= "Thrown" then error(e, 0) end
    return e.value * 10
  end):next(function(v) seen = v end, pass_on)
core.delay(1, "late"):next(function(v) seen = tostring(seen) .. v end, pass_on)
core.run()
if failure then error(failure, 0) end
assert(seen == "20late", tostring(seen))
