-- XML reply benchmark (not a spec): core.parse_response on a ~1 MB DescribeInstances reply,
-- read with the shipped EC2 model (models/ec2-2016-11-15.min.json; a hand-written fragment of
-- it when the models are absent). Goal: <= 20 ms per parse.
-- Run: make && LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" lua5.4 bench/xml_parse.lua [target KiB]
local core = require "awspromise.core"

local TARGET = (tonumber(arg and arg[1]) or 1024) * 1024
local RUNS = 30

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- The members of DescribeInstances' output that the reply below uses, as the real model spells them.
local FRAGMENT = [[{
  "metadata": {"protocol": "ec2", "apiVersion": "2016-11-15"},
  "operations": {"DescribeInstances": {"name": "DescribeInstances", "http": {"method": "POST", "requestUri": "/"},
    "output": {"type": "structure", "members": {
      "Reservations": {"locationName": "reservationSet", "type": "list", "member": {"shape": "Reservation", "locationName": "item"}},
      "NextToken": {"locationName": "nextToken"}}}}},
  "shapes": {
    "Reservation": {"type": "structure", "members": {
      "Groups": {"shape": "Groups", "locationName": "groupSet"},
      "Instances": {"locationName": "instancesSet", "type": "list", "member": {"shape": "Instance", "locationName": "item"}},
      "OwnerId": {"locationName": "ownerId"}, "ReservationId": {"locationName": "reservationId"}}},
    "Groups": {"type": "list", "member": {"locationName": "item", "type": "structure", "members": {
      "GroupName": {"locationName": "groupName"}, "GroupId": {"locationName": "groupId"}}}},
    "Tags": {"type": "list", "member": {"locationName": "item", "type": "structure", "members": {
      "Key": {"locationName": "key"}, "Value": {"locationName": "value"}}}},
    "Instance": {"type": "structure", "members": {
      "AmiLaunchIndex": {"locationName": "amiLaunchIndex", "type": "integer"},
      "ImageId": {"locationName": "imageId"}, "InstanceId": {"locationName": "instanceId"},
      "InstanceType": {"locationName": "instanceType"}, "KeyName": {"locationName": "keyName"},
      "LaunchTime": {"locationName": "launchTime", "type": "timestamp"},
      "Monitoring": {"locationName": "monitoring", "type": "structure", "members": {"State": {"locationName": "state"}}},
      "Placement": {"locationName": "placement", "type": "structure", "members": {
        "AvailabilityZone": {"locationName": "availabilityZone"}, "GroupName": {"locationName": "groupName"},
        "Tenancy": {"locationName": "tenancy"}}},
      "PrivateDnsName": {"locationName": "privateDnsName"}, "PrivateIpAddress": {"locationName": "privateIpAddress"},
      "PublicDnsName": {"locationName": "dnsName"}, "PublicIpAddress": {"locationName": "ipAddress"},
      "State": {"locationName": "instanceState", "type": "structure", "members": {
        "Code": {"locationName": "code", "type": "integer"}, "Name": {"locationName": "name"}}},
      "StateTransitionReason": {"locationName": "reason"}, "SubnetId": {"locationName": "subnetId"},
      "VpcId": {"locationName": "vpcId"}, "Architecture": {"locationName": "architecture"},
      "BlockDeviceMappings": {"locationName": "blockDeviceMapping", "type": "list", "member": {"locationName": "item",
        "type": "structure", "members": {"DeviceName": {"locationName": "deviceName"},
          "Ebs": {"locationName": "ebs", "type": "structure", "members": {
            "AttachTime": {"locationName": "attachTime", "type": "timestamp"},
            "DeleteOnTermination": {"locationName": "deleteOnTermination", "type": "boolean"},
            "Status": {"locationName": "status"}, "VolumeId": {"locationName": "volumeId"}}}}}},
      "ClientToken": {"locationName": "clientToken"}, "EbsOptimized": {"locationName": "ebsOptimized", "type": "boolean"},
      "EnaSupport": {"locationName": "enaSupport", "type": "boolean"}, "Hypervisor": {"locationName": "hypervisor"},
      "NetworkInterfaces": {"locationName": "networkInterfaceSet", "type": "list", "member": {"locationName": "item",
        "type": "structure", "members": {
          "Attachment": {"locationName": "attachment", "type": "structure", "members": {
            "AttachTime": {"locationName": "attachTime", "type": "timestamp"},
            "AttachmentId": {"locationName": "attachmentId"},
            "DeleteOnTermination": {"locationName": "deleteOnTermination", "type": "boolean"},
            "DeviceIndex": {"locationName": "deviceIndex", "type": "integer"}, "Status": {"locationName": "status"}}},
          "Description": {"locationName": "description"}, "Groups": {"shape": "Groups", "locationName": "groupSet"},
          "MacAddress": {"locationName": "macAddress"}, "NetworkInterfaceId": {"locationName": "networkInterfaceId"},
          "OwnerId": {"locationName": "ownerId"}, "PrivateDnsName": {"locationName": "privateDnsName"},
          "PrivateIpAddress": {"locationName": "privateIpAddress"},
          "SourceDestCheck": {"locationName": "sourceDestCheck", "type": "boolean"}, "Status": {"locationName": "status"},
          "SubnetId": {"locationName": "subnetId"}, "VpcId": {"locationName": "vpcId"},
          "InterfaceType": {"locationName": "interfaceType"}}}},
      "RootDeviceName": {"locationName": "rootDeviceName"}, "RootDeviceType": {"locationName": "rootDeviceType"},
      "SecurityGroups": {"shape": "Groups", "locationName": "groupSet"},
      "SourceDestCheck": {"locationName": "sourceDestCheck", "type": "boolean"},
      "Tags": {"shape": "Tags", "locationName": "tagSet"},
      "VirtualizationType": {"locationName": "virtualizationType"},
      "CpuOptions": {"locationName": "cpuOptions", "type": "structure", "members": {
        "CoreCount": {"locationName": "coreCount", "type": "integer"},
        "ThreadsPerCore": {"locationName": "threadsPerCore", "type": "integer"}}},
      "PlatformDetails": {"locationName": "platformDetails"}, "UsageOperation": {"locationName": "usageOperation"},
      "UsageOperationUpdateTime": {"locationName": "usageOperationUpdateTime", "type": "timestamp"}}}}
}]]

local model_text = read("models/ec2-2016-11-15.min.json")
local model_name = "models/ec2-2016-11-15.min.json"
if not model_text then
  model_text, model_name = FRAGMENT, "a hand-written fragment of the EC2 model (models/ absent)"
end
local model = core.model_load(model_text)

local function instance(out, r, i)
  local id = string.format("i-%08x%09d", r, i)
  local ip = string.format("10.%d.%d.%d", r % 250, i % 250, (r + i) % 250)
  out[#out + 1] = table.concat({
    "<item><instanceId>", id, "</instanceId><imageId>ami-0abcdef1234567890</imageId>",
    "<instanceState><code>16</code><name>running</name></instanceState>",
    "<privateDnsName>ip-", ip:gsub("%.", "-"), ".ec2.internal</privateDnsName>",
    "<dnsName>ec2-54-", tostring(r % 200), "-", tostring(i % 200), ".compute-1.amazonaws.com</dnsName><reason/>",
    "<keyName>deploy-key</keyName><amiLaunchIndex>", tostring(i % 4), "</amiLaunchIndex><productCodes/>",
    "<instanceType>m5.large</instanceType><launchTime>2024-03-0", tostring(1 + i % 9), "T12:34:56.000Z</launchTime>",
    "<placement><availabilityZone>us-east-1a</availabilityZone><groupName/><tenancy>default</tenancy></placement>",
    "<monitoring><state>disabled</state></monitoring><subnetId>subnet-0123456789abcdef0</subnetId>",
    "<vpcId>vpc-0123456789abcdef0</vpcId><privateIpAddress>", ip, "</privateIpAddress>",
    "<ipAddress>54.", tostring(r % 200), ".", tostring(i % 200), ".7</ipAddress><sourceDestCheck>true</sourceDestCheck>",
    "<groupSet><item><groupId>sg-0123456789abcdef0</groupId><groupName>web</groupName></item>",
    "<item><groupId>sg-0fedcba9876543210</groupId><groupName>ssh</groupName></item></groupSet>",
    "<architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName>",
    "<blockDeviceMapping>",
    "<item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-0aaaaaaaaaaaaaaa", tostring(i % 10),
    "</volumeId><status>attached</status><attachTime>2024-03-01T12:34:57.000Z</attachTime>",
    "<deleteOnTermination>true</deleteOnTermination></ebs></item>",
    "<item><deviceName>/dev/sdb</deviceName><ebs><volumeId>vol-0bbbbbbbbbbbbbbb", tostring(i % 10),
    "</volumeId><status>attached</status><attachTime>2024-03-01T12:35:10.000Z</attachTime>",
    "<deleteOnTermination>false</deleteOnTermination></ebs></item></blockDeviceMapping>",
    "<virtualizationType>hvm</virtualizationType><clientToken/>",
    "<tagSet><item><key>Name</key><value>web-", tostring(r), "-", tostring(i), "</value></item>",
    "<item><key>env</key><value>production</value></item><item><key>team</key><value>platform &amp; infra</value></item>",
    "<item><key>cost-center</key><value>cc-1234</value></item></tagSet>",
    "<hypervisor>xen</hypervisor><networkInterfaceSet><item>",
    "<networkInterfaceId>eni-0123456789abcdef", tostring(i % 10), "</networkInterfaceId>",
    "<subnetId>subnet-0123456789abcdef0</subnetId><vpcId>vpc-0123456789abcdef0</vpcId><description/>",
    "<ownerId>123456789012</ownerId><status>in-use</status><macAddress>0a:1b:2c:3d:4e:5f</macAddress>",
    "<privateIpAddress>", ip, "</privateIpAddress><privateDnsName>ip-internal.ec2.internal</privateDnsName>",
    "<sourceDestCheck>true</sourceDestCheck>",
    "<groupSet><item><groupId>sg-0123456789abcdef0</groupId><groupName>web</groupName></item></groupSet>",
    "<attachment><attachmentId>eni-attach-0123456789abcdef0</attachmentId><deviceIndex>0</deviceIndex>",
    "<status>attached</status><attachTime>2024-03-01T12:34:56.000Z</attachTime>",
    "<deleteOnTermination>true</deleteOnTermination></attachment>",
    "<association><publicIp>54.1.2.3</publicIp><publicDnsName>ec2-54-1-2-3.compute-1.amazonaws.com</publicDnsName>",
    "<ipOwnerId>amazon</ipOwnerId></association>",
    "<privateIpAddressesSet><item><privateIpAddress>", ip, "</privateIpAddress><primary>true</primary></item>",
    "</privateIpAddressesSet><ipv6AddressesSet/><interfaceType>interface</interfaceType></item></networkInterfaceSet>",
    "<ebsOptimized>false</ebsOptimized><enaSupport>true</enaSupport>",
    "<cpuOptions><coreCount>1</coreCount><threadsPerCore>2</threadsPerCore></cpuOptions>",
    "<capacityReservationSpecification><capacityReservationPreference>open</capacityReservationPreference>",
    "</capacityReservationSpecification><hibernationOptions><configured>false</configured></hibernationOptions>",
    "<metadataOptions><state>applied</state><httpTokens>required</httpTokens>",
    "<httpPutResponseHopLimit>2</httpPutResponseHopLimit><httpEndpoint>enabled</httpEndpoint></metadataOptions>",
    "<enclaveOptions><enabled>false</enabled></enclaveOptions><platformDetails>Linux/UNIX</platformDetails>",
    "<usageOperation>RunInstances</usageOperation>",
    "<usageOperationUpdateTime>2024-03-01T12:34:56.000Z</usageOperationUpdateTime></item>",
  })
end

-- Reservations of 1 to 4 instances until the reply reaches the target size.
local parts = { '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">',
  "<requestId>8f7724cf-496f-496e-8fe3-example</requestId><reservationSet>" }
local size, reservations, instances = 0, 0, 0
while size < TARGET do
  reservations = reservations + 1
  local body = { "<item><reservationId>r-", string.format("%017x", reservations), "</reservationId>",
    "<ownerId>123456789012</ownerId><groupSet/><instancesSet>" }
  for i = 1, 1 + reservations % 4 do
    instances = instances + 1
    instance(body, reservations, i)
  end
  body[#body + 1] = "</instancesSet></item>"
  local text = table.concat(body)
  size = size + #text
  parts[#parts + 1] = text
end
parts[#parts + 1] = "</reservationSet></DescribeInstancesResponse>"
local xml = table.concat(parts)
local response = { statusCode = 200, headers = { ["content-type"] = "text/xml;charset=UTF-8" }, body = xml }

-- One parse checked for correctness, then timed runs.
local ok, data = core.parse_response(model, "DescribeInstances", response)
assert(ok, data and data.message)
local count = 0
for _, r in ipairs(data.Reservations) do count = count + #r.Instances end
assert(count == instances, "lost instances")
local first = data.Reservations[1].Instances[1]
assert(first.State.Code == 16 and math.type(first.State.Code) == "integer")
assert(first.Tags[3].Value == "platform & infra")
assert(first.BlockDeviceMappings[2].Ebs.DeleteOnTermination == false)
assert(type(first.LaunchTime) == "number")

local times = {}
for i = 1, RUNS do
  collectgarbage()
  local t0 = os.clock()
  core.parse_response(model, "DescribeInstances", response)
  times[i] = (os.clock() - t0) * 1000
end
table.sort(times)
print(string.format("model: %s", model_name))
print(string.format("DescribeInstances reply: %.0f KiB, %d reservations, %d instances", #xml / 1024, reservations, instances))
print(string.format("parse_response: median %.2f ms, best %.2f ms, worst %.2f ms over %d runs (goal <= 20 ms)",
  times[(RUNS + 1) // 2], times[1], times[RUNS], RUNS))
