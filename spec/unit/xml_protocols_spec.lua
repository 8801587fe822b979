-- What the botocore suites do not pin down for query, ec2 and rest-xml: error fields and
-- flavours, refusals of wrong parameter types, map order, min.json spellings, odd documents.
-- (URI members carry an explicit string type: the HTTP binding in rest.c is not the subject here.)
local core = require "awspromise.core"

-- Models are written as JSON text: member order is wire order, and Lua tables would lose it.
local QUERY_MODEL = [[{
  "metadata": {"protocol": "%s", "apiVersion": "2020-01-08"},
  "operations": {
    "Op": {"name": "Op", "http": {"method": "POST", "requestUri": "/"},
      "input": {"shape": "In"}, "output": {"shape": "Out", "resultWrapper": "OpResult"},
      "errors": [{"shape": "Boom"}]}
  },
  "shapes": {
    "In": {"type": "structure", "members": {
      "Name": {"locationName": "name"},
      "Flag": {"shape": "Bool"},
      "Nested": {"shape": "In"},
      "Attrs": {"shape": "Attrs"},
      "Ids": {"type": "list", "member": {"locationName": "item"}}}},
    "Out": {"type": "structure", "members": {
      "Count": {"type": "long"},
      "When": {"type": "timestamp"},
      "Data": {"type": "blob"},
      "Items": {"type": "list", "member": {"locationName": "item"}}}},
    "Boom": {"type": "structure", "exception": true, "members": {"Reason": {}, "code": {}}},
    "Bool": {"type": "boolean"},
    "Attrs": {"type": "map", "key": {}, "value": {}}
  }
}]]

local REST_MODEL = [[{
  "metadata": {"protocol": "rest-xml", "apiVersion": "2006-03-01"},
  "operations": {
    "Put": {"name": "Put", "http": {"method": "PUT", "requestUri": "/{Bucket}?acl"},
      "input": {"type": "structure", "members": {
        "Bucket": {"type": "string", "location": "uri", "locationName": "Bucket"},
        "Policy": {"shape": "Policy", "locationName": "AccessControlPolicy",
          "xmlNamespace": {"uri": "http://s3.amazonaws.com/doc/2006-03-01/"}}},
        "payload": "Policy"}},
    "Get": {"name": "Get", "http": {"method": "GET", "requestUri": "/{Bucket}"},
      "input": {"type": "structure", "members": {"Bucket": {"type": "string", "location": "uri", "locationName": "Bucket"}}},
      "output": {"type": "structure", "members": {
        "Owner": {"type": "structure", "members": {"ID": {}}},
        "Grantees": {"locationName": "Grantee", "flattened": true, "type": "list", "member": {"shape": "Grantee"}},
        "Size": {"type": "integer"},
        "RequestCharged": {"location": "header", "locationName": "x-amz-request-charged"}}},
      "errors": [{"shape": "NoSuchBucket"}]},
    "Location": {"name": "Location", "http": {"method": "GET", "requestUri": "/{Bucket}?location"},
      "input": {"type": "structure", "members": {"Bucket": {"type": "string", "location": "uri", "locationName": "Bucket"}}},
      "output": {"type": "structure", "members": {"LocationConstraint": {}}}},
    "Download": {"name": "Download", "http": {"method": "GET", "requestUri": "/{Bucket}"},
      "input": {"type": "structure", "members": {"Bucket": {"type": "string", "location": "uri", "locationName": "Bucket"}}},
      "output": {"type": "structure", "members": {"Body": {"type": "blob", "streaming": true}}, "payload": "Body"}}
  },
  "shapes": {
    "Policy": {"type": "structure", "members": {
      "Grantees": {"locationName": "Grantee", "flattened": true, "type": "list", "member": {"shape": "Grantee"}}}},
    "Grantee": {"type": "structure", "xmlNamespace": {"prefix": "xsi", "uri": "http://www.w3.org/2001/XMLSchema-instance"},
      "members": {"Type": {"locationName": "xsi:type", "xmlAttribute": true}, "ID": {}}},
    "NoSuchBucket": {"type": "structure", "exception": true,
      "members": {"BucketName": {}, "Region": {"location": "header", "locationName": "x-amz-bucket-region"}}}
  }
}]]

local function model(protocol)
  if protocol == "rest-xml" then return core.model_load(REST_MODEL) end
  return core.model_load(QUERY_MODEL:format(protocol))
end

local function raises(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  return err
end

describe("query and ec2 details", function()
  it("names the parameter path of a wrong type", function()
    local m = model("query")
    local err = raises(function() core.build_request(m, "Op", { Nested = { Flag = "yes" } }) end)
    assert.equal("SerializationError", err.code)
    assert.equal("params.Nested.Flag: expected a boolean, got string", err.message)
    err = raises(function() core.build_request(m, "Op", { Ids = "x" }) end)
    assert.equal("params.Ids: expected a list, got string", err.message)
    err = raises(function() core.build_request(m, "Op", { Attrs = { [1] = "x" } }) end)
    assert.matches("^params%.Attrs: map keys must be strings", err.message)
  end)

  it("refuses a table that contains itself", function()
    local loop = {}
    loop.Nested = loop
    local err = raises(function() core.build_request(model("query"), "Op", { Nested = loop }) end)
    assert.matches("nested deeper than", err.message)
  end)

  it("sends maps sorted, or in the order a __pairs metamethod gives", function()
    local m = model("query")
    local req = core.build_request(m, "Op", { Attrs = { b = "2", a = "1" } })
    assert.equal("Action=Op&Version=2020-01-08&Attrs.entry.1.key=a&Attrs.entry.1.value=1"
      .. "&Attrs.entry.2.key=b&Attrs.entry.2.value=2", req.body)
    local ordered = setmetatable({ a = "1", b = "2" }, { __pairs = function(t)
      local keys, i = { "b", "a" }, 0
      return function() i = i + 1; if keys[i] then return keys[i], t[keys[i]] end end, t, nil
    end })
    req = core.build_request(m, "Op", { Attrs = ordered })
    assert.equal("Action=Op&Version=2020-01-08&Attrs.entry.1.key=b&Attrs.entry.1.value=2"
      .. "&Attrs.entry.2.key=a&Attrs.entry.2.value=1", req.body)
  end)

  it("reads min.json strings (no type), capitalizes ec2 names and posts a form", function()
    local req = core.build_request(model("ec2"), "Op", { Name = "a b", Ids = { "i-1", "i-2" }, Flag = false })
    assert.equal("POST", req.method)
    assert.equal("/", req.path)
    assert.equal("Action=Op&Version=2020-01-08&Name=a%20b&Flag=false&Ids.1=i-1&Ids.2=i-2", req.body)
    assert.equal("application/x-www-form-urlencoded; charset=utf-8", req.headers["Content-Type"])
    req = core.build_request(model("query"), "Op", { Name = "x", Ids = {} })
    assert.equal("Action=Op&Version=2020-01-08&name=x&Ids=", req.body)
  end)

  it("reads results inside the resultWrapper with Lua types", function()
    local ok, data = core.parse_response(model("query"), "Op", { statusCode = 200, headers = {}, body =
      "<OpResponse><OpResult><Count>9007199254740993</Count><When>2014-04-29T18:30:38.5Z</When>"
      .. "<Data>dmFsdWU=</Data><Items><item>a</item><item/></Items><Unknown><x/></Unknown></OpResult>"
      .. "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></OpResponse>" })
    assert.is_true(ok)
    assert.equal(9007199254740993, data.Count)
    assert.equal("integer", math.type(data.Count))
    assert.equal(1398796238.5, data.When)
    assert.equal("value", data.Data)
    assert.same({ "a", "" }, data.Items)
    assert.is_nil(data.Unknown)
    assert.is_nil(data.ResponseMetadata)
  end)

  it("builds query errors with the modeled members", function()
    local ok, err = core.parse_response(model("query"), "Op", { statusCode = 400, headers = {}, body =
      "<ErrorResponse><Error><Type>Sender</Type><Code>Boom</Code><Message>it broke</Message>"
      .. "<Reason>because</Reason><code>no</code></Error><RequestId>req-1</RequestId></ErrorResponse>" })
    assert.is_false(ok)
    assert.equal("Boom", err.code)
    assert.equal("it broke", err.message)
    assert.equal(400, err.statusCode)
    assert.equal("req-1", err.requestId)
    assert.equal("because", err.Reason)
    assert.equal("Boom: it broke", tostring(err))
  end)

  it("builds ec2 errors and takes a query-compatible code from x-amzn-query-error", function()
    local ok, err = core.parse_response(model("ec2"), "Op", { statusCode = 400, headers = {}, body =
      "<Response><Errors><Error><Code>InvalidID</Code><Message>bad id</Message></Error></Errors>"
      .. "<RequestID>ec2-req</RequestID></Response>" })
    assert.is_false(ok)
    assert.same({ "InvalidID", "bad id", "ec2-req" }, { err.code, err.message, err.requestId })
    ok, err = core.parse_response(model("query"), "Op", { statusCode = 400,
      headers = { ["x-amzn-query-error"] = "AWS.SimpleQueueService.NonExistentQueue;Sender" },
      body = "<ErrorResponse><Error><Code>QueueDoesNotExist</Code><Message>gone</Message></Error></ErrorResponse>" })
    assert.equal("AWS.SimpleQueueService.NonExistentQueue", err.code)
    assert.equal("gone", err.message)
  end)

  it("reports a body that is not XML", function()
    local ok, err = core.parse_response(model("query"), "Op", { statusCode = 200, headers = {}, body = "<html>" })
    assert.is_false(ok)
    assert.equal("SerializationError", err.code)
    ok, err = core.parse_response(model("query"), "Op", { statusCode = 502, headers = {}, body = "<html>proxy" })
    assert.equal("BadGateway", err.code)
    assert.equal(502, err.statusCode)
  end)

  it("refuses a document nested deeper than any AWS reply", function()
    local deep = "<OpResponse>" .. string.rep("<Unknown>", 300) .. string.rep("</Unknown>", 300) .. "</OpResponse>"
    local ok, data = core.parse_response(model("ec2"), "Op", { statusCode = 200, headers = {}, body = deep })
    assert.is_true(ok) -- unknown elements are skipped, however deep
    assert.same({}, data)
    local err
    deep = "<OpResponse>" .. string.rep("<Nested>", 300) .. string.rep("</Nested>", 300) .. "</OpResponse>"
    local m = core.model_load([[{"metadata": {"protocol": "ec2", "apiVersion": "1"},
      "operations": {"Op": {"output": {"shape": "N"}}},
      "shapes": {"N": {"type": "structure", "members": {"Nested": {"shape": "N"}}}}}]])
    ok, err = core.parse_response(m, "Op", { statusCode = 200, headers = {}, body = deep })
    assert.is_false(ok)
    assert.matches("nested too deeply", err.message)
  end)
end)

describe("rest-xml details", function()
  it("writes a structure payload with its namespace, prefixed attributes and escaping", function()
    local req = core.build_request(model("rest-xml"), "Put", { Bucket = "b",
      Policy = { Grantees = { { Type = "CanonicalUser", ID = "a<b&c" } } } })
    assert.equal("PUT", req.method)
    assert.equal("/b", req.path)
    assert.equal("acl", req.query)
    assert.equal('<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
      .. '<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">'
      .. "<ID>a&lt;b&amp;c</ID></Grantee></AccessControlPolicy>", req.body)
    assert.equal("application/xml", req.headers["Content-Type"])
  end)

  it("reads attributes, flattened lists and header members", function()
    local ok, data = core.parse_response(model("rest-xml"), "Get", {
      statusCode = 200, headers = { ["x-amz-request-charged"] = "requester" }, body =
      '<Result xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>o</ID></Owner>'
      .. '<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><ID>1</ID></Grantee>'
      .. "<Grantee><ID>2</ID></Grantee><Size> 42 </Size></Result>" })
    assert.is_true(ok)
    assert.same({ Owner = { ID = "o" }, Grantees = { { Type = "Group", ID = "1" }, { ID = "2" } }, Size = 42,
      RequestCharged = "requester" }, data)
  end)

  it("names a body-less error after its status, with S3's request ids", function()
    local ok, err = core.parse_response(model("rest-xml"), "Get", { statusCode = 404,
      headers = { ["x-amz-request-id"] = "rid", ["x-amz-id-2"] = "hid" }, body = "" })
    assert.is_false(ok)
    assert.same({ "NotFound", 404, "rid", "hid" }, { err.code, err.statusCode, err.requestId, err.extendedRequestId })
    ok, err = core.parse_response(model("rest-xml"), "Get", { statusCode = 304, headers = {}, body = "" })
    assert.equal("NotModified", err.code)
  end)

  it("reads S3 <Error> documents, with status 200 too, and modeled members", function()
    local body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchBucket</Code>'
      .. "<Message>no bucket</Message><BucketName>b</BucketName><RequestId>r1</RequestId>"
      .. "<HostId>h1</HostId></Error>"
    local ok, err = core.parse_response(model("rest-xml"), "Get", { statusCode = 404,
      headers = { ["x-amz-bucket-region"] = "eu-west-1" }, body = body })
    assert.is_false(ok)
    assert.same({ "NoSuchBucket", "no bucket", "r1", "h1", "b", "eu-west-1" },
      { err.code, err.message, err.requestId, err.extendedRequestId, err.BucketName, err.Region })
    ok, err = core.parse_response(model("rest-xml"), "Get", { statusCode = 200, headers = {}, body = body })
    assert.is_false(ok)
    assert.equal(200, err.statusCode)
    assert.equal("NoSuchBucket", err.code)
    -- an object's own bytes are never an error document
    local data
    ok, data = core.parse_response(model("rest-xml"), "Download", { statusCode = 200, headers = {}, body = body })
    assert.is_true(ok)
    assert.equal(body, data.Body)
  end)

  it("reads a document that is one scalar member (GetBucketLocation)", function()
    local ok, data = core.parse_response(model("rest-xml"), "Location", { statusCode = 200, headers = {}, body =
      '<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>' })
    assert.is_true(ok)
    assert.equal("eu-west-1", data.LocationConstraint)
  end)
end)
