-- Endpoint resolution tables: (service, region, options) -> URL, host name, signing region and
-- name, across partitions, global services, FIPS and dualstack variants, environment and custom
-- endpoints, and S3's virtual-hosted versus path-style addressing. Pure computation: no traffic.
local endpoints = require "awspromise.endpoints"

-- Services as their models describe them: endpointPrefix, signingName, sdk serviceId.
local SVC = {
  ec2 = {serviceId = "ec2", endpointPrefix = "ec2", sdkServiceId = "EC2"},
  s3 = {serviceId = "s3", endpointPrefix = "s3", sdkServiceId = "S3", globalEndpoint = "s3.amazonaws.com"},
  dynamodb = {serviceId = "dynamodb", endpointPrefix = "dynamodb", sdkServiceId = "DynamoDB"},
  sqs = {serviceId = "sqs", endpointPrefix = "sqs", sdkServiceId = "SQS"},
  lambda = {serviceId = "lambda", endpointPrefix = "lambda", sdkServiceId = "Lambda"},
  logs = {serviceId = "cloudwatchlogs", endpointPrefix = "logs", sdkServiceId = "CloudWatch Logs"},
  monitoring = {serviceId = "cloudwatch", endpointPrefix = "monitoring", sdkServiceId = "CloudWatch"},
  iam = {serviceId = "iam", endpointPrefix = "iam", sdkServiceId = "IAM", globalEndpoint = "iam.amazonaws.com"},
  sts = {serviceId = "sts", endpointPrefix = "sts", sdkServiceId = "STS", globalEndpoint = "sts.amazonaws.com"},
  route53 = {serviceId = "route53", endpointPrefix = "route53", sdkServiceId = "Route 53",
    globalEndpoint = "route53.amazonaws.com"},
  cloudfront = {serviceId = "cloudfront", endpointPrefix = "cloudfront", sdkServiceId = "CloudFront",
    globalEndpoint = "cloudfront.amazonaws.com"},
  waf = {serviceId = "waf", endpointPrefix = "waf", sdkServiceId = "WAF"},
  budgets = {serviceId = "budgets", endpointPrefix = "budgets", sdkServiceId = "Budgets"},
  ce = {serviceId = "costexplorer", endpointPrefix = "ce", sdkServiceId = "Cost Explorer"},
  organizations = {serviceId = "organizations", endpointPrefix = "organizations", sdkServiceId = "Organizations"},
  savingsplans = {serviceId = "savingsplans", endpointPrefix = "savingsplans", sdkServiceId = "savingsplans",
    globalEndpoint = "savingsplans.amazonaws.com"},
  batch = {serviceId = "batch", endpointPrefix = "batch", sdkServiceId = "Batch"},
  ecr = {serviceId = "ecr", endpointPrefix = "api.ecr", signingName = "ecr", sdkServiceId = "ECR"},
  smr = {serviceId = "sagemakerruntime", endpointPrefix = "runtime.sagemaker", signingName = "sagemaker",
    sdkServiceId = "SageMaker Runtime"},
  lexmodels = {serviceId = "lexmodelbuildingservice", endpointPrefix = "models.lex", signingName = "lex",
    sdkServiceId = "Lex Model Building Service"},
  cognito = {serviceId = "cognitoidentity", endpointPrefix = "cognito-identity", sdkServiceId = "Cognito Identity"},
  s3control = {serviceId = "s3control", endpointPrefix = "s3-control", signingName = "s3", sdkServiceId = "S3 Control"},
  codecatalyst = {serviceId = "codecatalyst", endpointPrefix = "codecatalyst", sdkServiceId = "CodeCatalyst"},
  rex = {serviceId = "resourceexplorer2", endpointPrefix = "resource-explorer-2", sdkServiceId = "Resource Explorer 2"},
}

local function opts_for(service, region, extra)
  local o = {env = {}}
  for k, v in pairs(SVC[service]) do o[k] = v end
  o.region = region
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local function resolve(service, region, extra)
  return endpoints.resolve(opts_for(service, region, extra))
end

-- Raises a ConfigError whose message contains every fragment.
local function config_error(fn, ...)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected a ConfigError")
  assert.are.equal("table", type(err), "the error is a table, got " .. tostring(err))
  assert.are.equal("ConfigError", err.code)
  assert.are.equal("ConfigError: " .. err.message, tostring(err))
  for _, fragment in ipairs({...}) do
    assert.truthy(err.message:find(fragment, 1, true), "'" .. fragment .. "' not in: " .. err.message)
  end
  return err
end

-- (service, region, options) -> hostname, signingRegion[, signingName]
local function check_table(rows)
  for _, row in ipairs(rows) do
    local service, region, extra, host, signing_region, signing_name = table.unpack(row)
    local ep = resolve(service, region, extra)
    local label = service .. " " .. tostring(region)
    assert.are.equal(host, ep.hostname, label)
    assert.are.equal(signing_region, ep.signingRegion, label)
    assert.are.equal((extra and extra.sslEnabled == false and "http://" or "https://") .. host, ep.url, label)
    assert.are.equal(signing_name or SVC[service].signingName or SVC[service].endpointPrefix, ep.signingName, label)
    assert.are.equal("rules", ep.source, label)
  end
end

describe("endpoints.resolve", function()
  describe("regional services in every partition", function()
    it("uses {endpointPrefix}.{region}.{dnsSuffix}", function()
      check_table {
        {"ec2", "us-east-1", nil, "ec2.us-east-1.amazonaws.com", "us-east-1"},
        {"ec2", "us-west-2", nil, "ec2.us-west-2.amazonaws.com", "us-west-2"},
        {"dynamodb", "eu-west-1", nil, "dynamodb.eu-west-1.amazonaws.com", "eu-west-1"},
        {"sqs", "ap-southeast-2", nil, "sqs.ap-southeast-2.amazonaws.com", "ap-southeast-2"},
        {"lambda", "sa-east-1", nil, "lambda.sa-east-1.amazonaws.com", "sa-east-1"},
        {"logs", "ca-central-1", nil, "logs.ca-central-1.amazonaws.com", "ca-central-1"},
        {"monitoring", "me-south-1", nil, "monitoring.me-south-1.amazonaws.com", "me-south-1"},
        {"dynamodb", "af-south-1", nil, "dynamodb.af-south-1.amazonaws.com", "af-south-1"},
        {"ec2", "il-central-1", nil, "ec2.il-central-1.amazonaws.com", "il-central-1"},
        {"ec2", "cn-north-1", nil, "ec2.cn-north-1.amazonaws.com.cn", "cn-north-1"},
        {"dynamodb", "cn-northwest-1", nil, "dynamodb.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
        {"ec2", "us-gov-west-1", nil, "ec2.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
        {"sqs", "us-gov-east-1", nil, "sqs.us-gov-east-1.amazonaws.com", "us-gov-east-1"},
        {"ec2", "us-iso-east-1", nil, "ec2.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
        {"dynamodb", "us-iso-west-1", nil, "dynamodb.us-iso-west-1.c2s.ic.gov", "us-iso-west-1"},
        {"ec2", "us-isob-east-1", nil, "ec2.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
        {"ec2", "eu-isoe-west-1", nil, "ec2.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1"},
        {"ec2", "us-isof-south-1", nil, "ec2.us-isof-south-1.csp.hci.ic.gov", "us-isof-south-1"},
        {"cognito", "eu-central-1", nil, "cognito-identity.eu-central-1.amazonaws.com", "eu-central-1"},
        {"s3control", "us-west-2", nil, "s3-control.us-west-2.amazonaws.com", "us-west-2", "s3"},
      }
    end)

    it("signs with the model's signingName, the endpointPrefix otherwise", function()
      check_table {
        {"smr", "us-east-1", nil, "runtime.sagemaker.us-east-1.amazonaws.com", "us-east-1", "sagemaker"},
        {"lexmodels", "eu-west-1", nil, "models.lex.eu-west-1.amazonaws.com", "eu-west-1", "lex"},
        {"ecr", "ap-south-1", nil, "api.ecr.ap-south-1.amazonaws.com", "ap-south-1", "ecr"},
      }
    end)

    it("names the partition and its DNS suffix", function()
      local cases = {
        {"us-east-1", "aws", "amazonaws.com"}, {"eu-west-3", "aws", "amazonaws.com"},
        {"cn-north-1", "aws-cn", "amazonaws.com.cn"}, {"us-gov-west-1", "aws-us-gov", "amazonaws.com"},
        {"us-iso-east-1", "aws-iso", "c2s.ic.gov"}, {"us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov"},
        {"eu-isoe-west-1", "aws-iso-e", "cloud.adc-e.uk"}, {"us-isof-south-1", "aws-iso-f", "csp.hci.ic.gov"},
      }
      for _, c in ipairs(cases) do
        local name, suffix = endpoints.partition(c[1])
        assert.are.same({c[2], c[3]}, {name, suffix}, c[1])
        local ep = resolve("ec2", c[1])
        assert.are.equal(c[2], ep.partition, c[1])
        assert.are.equal(c[3], ep.dnsSuffix, c[1])
        assert.are.equal(c[1], ep.region)
      end
    end)

    it("uses http with sslEnabled = false, and the default ports", function()
      local ep = resolve("ec2", "us-east-1", {sslEnabled = false})
      assert.are.equal("http://ec2.us-east-1.amazonaws.com", ep.url)
      assert.are.equal("http", ep.protocol)
      assert.are.equal(80, ep.port)
      assert.are.equal("", ep.path)
      ep = resolve("ec2", "us-east-1")
      assert.are.equal("https", ep.protocol)
      assert.are.equal(443, ep.port)
      assert.is_false(ep.isGlobalEndpoint)
    end)
  end)

  describe("global services", function()
    it("resolve to their global endpoint and signing region, per partition", function()
      check_table {
        {"iam", "us-east-1", nil, "iam.amazonaws.com", "us-east-1"},
        {"iam", "eu-west-1", nil, "iam.amazonaws.com", "us-east-1"},
        {"iam", "ap-southeast-1", nil, "iam.amazonaws.com", "us-east-1"},
        {"iam", "cn-northwest-1", nil, "iam.cn-north-1.amazonaws.com.cn", "cn-north-1"},
        {"iam", "us-gov-east-1", nil, "iam.us-gov.amazonaws.com", "us-gov-west-1"},
        {"iam", "us-iso-east-1", nil, "iam.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
        {"route53", "eu-central-1", nil, "route53.amazonaws.com", "us-east-1"},
        {"route53", "cn-north-1", nil, "route53.amazonaws.com.cn", "cn-northwest-1"},
        {"route53", "us-gov-west-1", nil, "route53.us-gov.amazonaws.com", "us-gov-west-1"},
        {"route53", "us-iso-east-1", nil, "route53.c2s.ic.gov", "us-iso-east-1"},
        {"route53", "us-isob-east-1", nil, "route53.sc2s.sgov.gov", "us-isob-east-1"},
        {"route53", "us-isof-south-1", nil, "route53.csp.hci.ic.gov", "us-isof-south-1"},
        {"route53", "eu-isoe-west-1", nil, "route53.cloud.adc-e.uk", "eu-isoe-west-1"},
        {"cloudfront", "ap-northeast-1", nil, "cloudfront.amazonaws.com", "us-east-1"},
        {"waf", "us-west-2", nil, "waf.amazonaws.com", "us-east-1"},
        {"budgets", "eu-west-1", nil, "budgets.amazonaws.com", "us-east-1"},
        {"ce", "eu-west-1", nil, "ce.us-east-1.amazonaws.com", "us-east-1"},
        {"ce", "cn-north-1", nil, "ce.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
        {"savingsplans", "eu-west-1", nil, "savingsplans.amazonaws.com", "us-east-1"},
      }
      assert.is_true(resolve("iam", "eu-west-1").isGlobalEndpoint)
      assert.is_true(resolve("route53", "cn-north-1").isGlobalEndpoint)
    end)

    it("keep https for the global SSL endpoints even with sslEnabled = false", function()
      local ep = resolve("iam", "eu-west-1", {sslEnabled = false})
      assert.are.equal("https://iam.amazonaws.com", ep.url)
    end)

    it("do not need a region", function()
      local ep = resolve("iam", nil)
      assert.are.equal("iam.amazonaws.com", ep.hostname)
      assert.are.equal("us-east-1", ep.signingRegion)
      assert.are.equal("us-east-1", ep.region)
      ep = resolve("cloudfront", nil)
      assert.are.equal("cloudfront.amazonaws.com", ep.hostname)
    end)

    it("follow the data for services the data treats as regional", function()
      check_table {
        {"organizations", "us-east-1", nil, "organizations.us-east-1.amazonaws.com", "us-east-1"},
        {"codecatalyst", "us-west-2", nil, "codecatalyst.global.api.aws", "us-west-2"},
        {"rex", "us-west-2", nil, "resource-explorer-2.us-west-2.api.aws", "us-west-2"},
      }
    end)

    it("accept the pseudo regions aws-global and aws-us-gov-global", function()
      check_table {
        {"iam", "aws-global", nil, "iam.amazonaws.com", "us-east-1"},
        {"sts", "aws-global", {stsRegionalEndpoints = "regional"}, "sts.amazonaws.com", "us-east-1"},
        {"s3", "aws-global", {s3UsEast1RegionalEndpoint = "regional"}, "s3.amazonaws.com", "us-east-1"},
        {"ec2", "aws-global", nil, "ec2.us-east-1.amazonaws.com", "us-east-1"},
        {"iam", "aws-us-gov-global", nil, "iam.us-gov.amazonaws.com", "us-gov-west-1"},
      }
    end)
  end)

  describe("STS", function()
    it("is global in the legacy regions by default (legacy)", function()
      for _, r in ipairs {"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1",
        "eu-north-1", "ap-northeast-1", "ap-south-1", "ap-southeast-2", "ca-central-1", "sa-east-1"} do
        local ep = resolve("sts", r)
        assert.are.equal("sts.amazonaws.com", ep.hostname, r)
        assert.are.equal("us-east-1", ep.signingRegion, r)
        assert.is_true(ep.isGlobalEndpoint, r)
      end
      assert.are.equal("sts.amazonaws.com", resolve("sts", "eu-west-2", {stsRegionalEndpoints = "legacy"}).hostname)
      assert.are.equal("sts.amazonaws.com", resolve("sts", nil).hostname)
    end)

    it("is regional in the other regions and partitions, and everywhere with 'regional'", function()
      check_table {
        {"sts", "ap-east-1", nil, "sts.ap-east-1.amazonaws.com", "ap-east-1"},
        {"sts", "af-south-1", nil, "sts.af-south-1.amazonaws.com", "af-south-1"},
        {"sts", "me-south-1", {stsRegionalEndpoints = "legacy"}, "sts.me-south-1.amazonaws.com", "me-south-1"},
        {"sts", "cn-north-1", nil, "sts.cn-north-1.amazonaws.com.cn", "cn-north-1"},
        {"sts", "us-gov-west-1", nil, "sts.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
        {"sts", "us-iso-east-1", nil, "sts.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
        {"sts", "us-east-1", {stsRegionalEndpoints = "regional"}, "sts.us-east-1.amazonaws.com", "us-east-1"},
        {"sts", "eu-west-1", {stsRegionalEndpoints = "regional"}, "sts.eu-west-1.amazonaws.com", "eu-west-1"},
        {"sts", "eu-west-1", {stsRegionalEndpoints = "REGIONAL"}, "sts.eu-west-1.amazonaws.com", "eu-west-1"},
        {"sts", "eu-west-1", {env = {AWS_STS_REGIONAL_ENDPOINTS = "regional"}}, "sts.eu-west-1.amazonaws.com", "eu-west-1"},
        {"sts", "eu-west-1", {stsRegionalEndpoints = "legacy", env = {AWS_STS_REGIONAL_ENDPOINTS = "regional"}},
          "sts.amazonaws.com", "us-east-1"},
        {"sts", "us-east-1", {useFipsEndpoint = true}, "sts-fips.us-east-1.amazonaws.com", "us-east-1"},
      }
    end)

    it("refuses an unknown stsRegionalEndpoints value", function()
      config_error(function() resolve("sts", "eu-west-1", {stsRegionalEndpoints = "sometimes"}) end,
        "stsRegionalEndpoints", "sometimes")
      config_error(function() resolve("sts", "eu-west-1", {env = {AWS_STS_REGIONAL_ENDPOINTS = "x"}}) end,
        "AWS_STS_REGIONAL_ENDPOINTS")
      config_error(function() resolve("sts", nil, {stsRegionalEndpoints = "regional"}) end, "Missing region")
    end)
  end)

  describe("S3", function()
    it("uses s3.amazonaws.com in us-east-1 unless s3UsEast1RegionalEndpoint = 'regional'", function()
      check_table {
        {"s3", "us-east-1", nil, "s3.amazonaws.com", "us-east-1"},
        {"s3", "us-east-1", {s3UsEast1RegionalEndpoint = "legacy"}, "s3.amazonaws.com", "us-east-1"},
        {"s3", "us-east-1", {s3UsEast1RegionalEndpoint = "regional"}, "s3.us-east-1.amazonaws.com", "us-east-1"},
        {"s3", "us-east-1", {env = {AWS_S3_US_EAST_1_REGIONAL_ENDPOINT = "regional"}}, "s3.us-east-1.amazonaws.com",
          "us-east-1"},
        {"s3", "us-east-2", nil, "s3.us-east-2.amazonaws.com", "us-east-2"},
        {"s3", "eu-west-1", nil, "s3.eu-west-1.amazonaws.com", "eu-west-1"},
        {"s3", "eu-central-1", nil, "s3.eu-central-1.amazonaws.com", "eu-central-1"},
        {"s3", "cn-north-1", nil, "s3.cn-north-1.amazonaws.com.cn", "cn-north-1"},
        {"s3", "us-gov-west-1", nil, "s3.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
      }
      config_error(function() resolve("s3", "us-east-1", {s3UsEast1RegionalEndpoint = "global"}) end,
        "s3UsEast1RegionalEndpoint", "global")
    end)
  end)

  describe("FIPS and dualstack", function()
    it("FIPS endpoints follow the data", function()
      local F = {useFipsEndpoint = true}
      check_table {
        {"dynamodb", "us-east-1", F, "dynamodb-fips.us-east-1.amazonaws.com", "us-east-1"},
        {"sqs", "us-west-2", F, "sqs-fips.us-west-2.amazonaws.com", "us-west-2"},
        {"ec2", "ca-central-1", F, "ec2-fips.ca-central-1.amazonaws.com", "ca-central-1"},
        {"ec2", "us-gov-west-1", F, "ec2.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
        {"sqs", "us-gov-east-1", F, "sqs.us-gov-east-1.amazonaws.com", "us-gov-east-1"},
        {"lambda", "us-gov-west-1", F, "lambda-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
        {"batch", "us-east-1", F, "fips.batch.us-east-1.amazonaws.com", "us-east-1"},
        {"ecr", "us-east-1", F, "ecr-fips.us-east-1.amazonaws.com", "us-east-1", "ecr"},
        {"smr", "us-east-2", F, "runtime-fips.sagemaker.us-east-2.amazonaws.com", "us-east-2", "sagemaker"},
        {"ec2", "us-iso-east-1", F, "ec2-fips.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
        {"ec2", "us-isob-east-1", F, "ec2-fips.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
        {"ec2", "cn-north-1", F, "ec2-fips.cn-north-1.amazonaws.com.cn", "cn-north-1"},
        {"s3", "us-east-1", F, "s3-fips.us-east-1.amazonaws.com", "us-east-1"},
        {"iam", "eu-west-1", F, "iam-fips.amazonaws.com", "us-east-1"},
        {"route53", "us-east-1", F, "route53-fips.amazonaws.com", "us-east-1"},
        {"route53", "us-gov-west-1", F, "route53.us-gov.amazonaws.com", "us-gov-west-1"},
      }
    end)

    it("a fips- region or -fips suffix means FIPS in the real region", function()
      check_table {
        {"dynamodb", "fips-us-east-1", nil, "dynamodb-fips.us-east-1.amazonaws.com", "us-east-1"},
        {"dynamodb", "us-west-2-fips", nil, "dynamodb-fips.us-west-2.amazonaws.com", "us-west-2"},
        {"ec2", "fips-us-gov-west-1", nil, "ec2.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
      }
      assert.are.equal("us-west-2", resolve("dynamodb", "us-west-2-fips").region)
    end)

    it("dualstack endpoints follow the data", function()
      local D = {useDualstackEndpoint = true}
      check_table {
        {"s3", "eu-west-1", D, "s3.dualstack.eu-west-1.amazonaws.com", "eu-west-1"},
        {"s3", "us-east-1", D, "s3.dualstack.us-east-1.amazonaws.com", "us-east-1"},
        {"s3", "cn-north-1", D, "s3.dualstack.cn-north-1.amazonaws.com.cn", "cn-north-1"},
        {"s3control", "us-west-2", D, "s3-control.dualstack.us-west-2.amazonaws.com", "us-west-2", "s3"},
        {"ec2", "us-east-1", D, "api.ec2.us-east-1.aws", "us-east-1"},
        {"ec2", "eu-central-1", D, "ec2.eu-central-1.api.aws", "eu-central-1"},
        {"dynamodb", "us-west-2", D, "dynamodb.us-west-2.api.aws", "us-west-2"},
        {"dynamodb", "cn-north-1", D, "dynamodb.cn-north-1.api.amazonwebservices.com.cn", "cn-north-1"},
        {"s3", "eu-west-1", {useDualstack = true}, "s3.dualstack.eu-west-1.amazonaws.com", "eu-west-1"},
      }
    end)

    it("FIPS with dualstack", function()
      local FD = {useFipsEndpoint = true, useDualstackEndpoint = true}
      check_table {
        {"s3", "us-east-1", FD, "s3-fips.dualstack.us-east-1.amazonaws.com", "us-east-1"},
        {"dynamodb", "us-east-1", FD, "dynamodb-fips.us-east-1.api.aws", "us-east-1"},
        {"s3", "cn-north-1", FD, "s3-fips.dualstack.cn-north-1.amazonaws.com.cn", "cn-north-1"},
      }
    end)

    it("reads AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT when the options are unset", function()
      check_table {
        {"dynamodb", "us-east-1", {env = {AWS_USE_FIPS_ENDPOINT = "true"}}, "dynamodb-fips.us-east-1.amazonaws.com",
          "us-east-1"},
        {"dynamodb", "us-east-1", {env = {AWS_USE_FIPS_ENDPOINT = "TRUE"}, useFipsEndpoint = false},
          "dynamodb.us-east-1.amazonaws.com", "us-east-1"},
        {"s3", "eu-west-1", {env = {AWS_USE_DUALSTACK_ENDPOINT = "true"}}, "s3.dualstack.eu-west-1.amazonaws.com",
          "eu-west-1"},
        {"s3", "eu-west-1", {env = {AWS_USE_DUALSTACK_ENDPOINT = "false"}}, "s3.eu-west-1.amazonaws.com", "eu-west-1"},
      }
      config_error(function() resolve("ec2", "us-east-1", {env = {AWS_USE_DUALSTACK_ENDPOINT = "maybe"}}) end,
        "AWS_USE_DUALSTACK_ENDPOINT", "maybe")
      config_error(function() resolve("ec2", "us-east-1", {useFipsEndpoint = "yes"}) end, "useFipsEndpoint")
    end)
  end)

  describe("environment endpoints", function()
    it("AWS_ENDPOINT_URL applies to every service, the service-specific variable wins", function()
      local env = {AWS_ENDPOINT_URL = "http://localhost:4566", AWS_ENDPOINT_URL_DYNAMODB = "http://127.0.0.1:8000/"}
      local ep = resolve("dynamodb", "eu-west-1", {env = env})
      assert.are.equal("http://127.0.0.1:8000", ep.url)
      assert.are.equal("127.0.0.1", ep.hostname)
      assert.are.equal(8000, ep.port)
      assert.are.equal("eu-west-1", ep.signingRegion)
      assert.are.equal("dynamodb", ep.signingName)
      assert.are.equal("AWS_ENDPOINT_URL_DYNAMODB", ep.source)
      ep = resolve("sqs", "eu-west-1", {env = env})
      assert.are.equal("http://localhost:4566", ep.url)
      assert.are.equal("AWS_ENDPOINT_URL", ep.source)
      ep = resolve("s3", "us-west-2", {env = {AWS_ENDPOINT_URL_S3 = "https://s3.example.test"}})
      assert.are.equal("https://s3.example.test", ep.url)
    end)

    it("names the variable after the sdk service id: upper case, spaces to underscores", function()
      assert.are.equal("AWS_ENDPOINT_URL_DYNAMODB", endpoints.env_var_name("DynamoDB"))
      assert.are.equal("AWS_ENDPOINT_URL_COGNITO_IDENTITY", endpoints.env_var_name("Cognito Identity"))
      assert.are.equal("AWS_ENDPOINT_URL_ROUTE_53", endpoints.env_var_name("Route 53"))
      assert.are.equal("AWS_ENDPOINT_URL_S3", endpoints.env_var_name("S3"))
      local ep = resolve("cognito", "us-east-1", {env = {AWS_ENDPOINT_URL_COGNITO_IDENTITY = "http://ci.local:9229"}})
      assert.are.equal("http://ci.local:9229", ep.url)
      ep = resolve("logs", "us-east-1", {env = {AWS_ENDPOINT_URL_CLOUDWATCH_LOGS = "http://logs.local:1"}})
      assert.are.equal("http://logs.local:1", ep.url)
      -- without sdkServiceId the metadata id names it
      ep = endpoints.resolve {serviceId = "dynamodb", endpointPrefix = "dynamodb", region = "us-east-1",
        env = {AWS_ENDPOINT_URL_DYNAMODB = "http://ddb.local"}}
      assert.are.equal("http://ddb.local", ep.url)
    end)

    it("an explicit endpoint beats the environment", function()
      local ep = resolve("dynamodb", "us-east-1", {endpoint = "http://mine:1234",
        env = {AWS_ENDPOINT_URL = "http://a", AWS_ENDPOINT_URL_DYNAMODB = "http://b"}})
      assert.are.equal("http://mine:1234", ep.url)
      assert.are.equal("endpoint", ep.source)
    end)

    it("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores the variables, not the option", function()
      local env = {AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true", AWS_ENDPOINT_URL = "http://a",
        AWS_ENDPOINT_URL_DYNAMODB = "http://b"}
      assert.are.equal("https://dynamodb.us-east-1.amazonaws.com", resolve("dynamodb", "us-east-1", {env = env}).url)
      env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "false"
      assert.are.equal("http://b", resolve("dynamodb", "us-east-1", {env = env}).url)
      env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true"
      assert.are.equal("http://c", resolve("dynamodb", "us-east-1", {env = env, endpoint = "http://c"}).url)
    end)

    it("empty values are unset; env may be a function; the default reads os.getenv", function()
      assert.are.equal("https://sqs.us-east-1.amazonaws.com",
        resolve("sqs", "us-east-1", {env = {AWS_ENDPOINT_URL = ""}}).url)
      local asked = {}
      local ep = resolve("sqs", "us-east-1", {env = function(name)
        asked[#asked + 1] = name
        if name == "AWS_ENDPOINT_URL_SQS" then return "http://q.local" end
      end})
      assert.are.equal("http://q.local", ep.url)
      assert.truthy(table.concat(asked, " "):find("AWS_ENDPOINT_URL_SQS", 1, true))
      assert.are.equal(os.getenv("PATH"), endpoints.default_env.PATH)
      assert.is_nil(endpoints.default_env.AWSPROMISE_SURELY_UNSET_VARIABLE_42)
    end)

    it("a malformed variable is a ConfigError naming it", function()
      config_error(function() resolve("sqs", "us-east-1", {env = {AWS_ENDPOINT_URL_SQS = "ftp://q"}}) end,
        "AWS_ENDPOINT_URL_SQS", "ftp")
      config_error(function() resolve("sqs", "us-east-1", {env = {AWS_ENDPOINT_URL = "http://a b"}}) end,
        "AWS_ENDPOINT_URL", "whitespace")
      config_error(function() resolve("sqs", "us-east-1", {env = 42}) end, "env")
    end)
  end)

  describe("custom endpoints", function()
    local function custom(endpoint, extra)
      extra = extra or {}
      extra.endpoint = endpoint
      return resolve("dynamodb", "eu-west-1", extra)
    end

    it("keeps scheme, host, port and path", function()
      local rows = {
        -- endpoint, url, hostname, port, path, protocol
        {"http://localhost:4566", "http://localhost:4566", "localhost", 4566, "", "http"},
        {"https://example.com:8443/prefix/", "https://example.com:8443/prefix", "example.com", 8443, "/prefix", "https"},
        {"https://example.com/a/b", "https://example.com/a/b", "example.com", 443, "/a/b", "https"},
        {"example.com", "https://example.com", "example.com", 443, "", "https"},
        {"localhost:9000", "https://localhost:9000", "localhost", 9000, "", "https"},
        {"HTTP://Example.com", "http://Example.com", "Example.com", 80, "", "http"},
        {"https://example.com:443", "https://example.com", "example.com", 443, "", "https"},
        {"http://example.com:80/", "http://example.com", "example.com", 80, "", "http"},
        {"http://[::1]:8080/x", "http://[::1]:8080/x", "[::1]", 8080, "/x", "http"},
        {"https://vpce-1a2b.dynamodb.eu-west-1.vpce.amazonaws.com", "https://vpce-1a2b.dynamodb.eu-west-1.vpce.amazonaws.com",
          "vpce-1a2b.dynamodb.eu-west-1.vpce.amazonaws.com", 443, "", "https"},
        {"  http://padded:1  ", "http://padded:1", "padded", 1, "", "http"},
        {"http://newline.example\n", "http://newline.example", "newline.example", 80, "", "http"},
      }
      for _, r in ipairs(rows) do
        local ep = custom(r[1])
        assert.are.same({r[2], r[3], r[4], r[5], r[6]}, {ep.url, ep.hostname, ep.port, ep.path, ep.protocol}, r[1])
        assert.are.equal("eu-west-1", ep.signingRegion)
        assert.are.equal("endpoint", ep.source)
      end
      assert.are.equal("http://example.com", custom("example.com", {sslEnabled = false}).url)
      assert.are.equal("http://t.local:1", custom({url = "http://t.local:1"}).url)
      assert.are.equal("http://t.local:2", custom({href = "http://t.local:2"}).url)
    end)

    it("ignores the fips and dualstack flags", function()
      local ep = custom("http://localhost:4566", {useFipsEndpoint = true, useDualstackEndpoint = true})
      assert.are.equal("http://localhost:4566", ep.url)
    end)

    it("signs for the configured region; without one only a global service can sign", function()
      local ep = resolve("iam", "eu-west-1", {endpoint = "http://localhost:4566"})
      assert.are.equal("eu-west-1", ep.signingRegion)
      ep = resolve("iam", nil, {endpoint = "http://localhost:4566"})
      assert.are.equal("us-east-1", ep.signingRegion)
      config_error(function() resolve("sqs", nil, {endpoint = "http://localhost:4566"}) end,
        "Missing region", "http://localhost:4566")
    end)

    it("refuses what is not an http(s) URL", function()
      local bad = {
        {"ftp://host", "unsupported scheme", "ftp"},
        {"file:///etc/passwd", "unsupported scheme", "file"},
        {"://host", "malformed scheme"},
        {"https://", "no host"},
        {"https://host:0", "invalid port", "0"},
        {"https://host:99999", "invalid port"},
        {"https://host:abc", "invalid port"},
        {"https://host:", "invalid port"},
        {"https://user:pw@host", "user information"},
        {"https://host/path?x=1", "query or fragment"},
        {"https://host#frag", "query or fragment"},
        {"https://ho st", "whitespace"},
        {"https://ho\tst", "whitespace"},
        {"https://ho$t", "invalid host"},
        {"https://a..b", "invalid host"},
        {"http://[zz]:1", "IPv6"},
        {"   ", "empty"},
      }
      for _, b in ipairs(bad) do
        local expect = {table.unpack(b, 2)}
        config_error(function() custom(b[1]) end, "endpoint", table.unpack(expect))
      end
      local err = config_error(function() custom("https://user:secret@host") end, "user information")
      assert.is_nil(err.message:find("secret", 1, true), "the password is not repeated")
      config_error(function() custom(42) end, "endpoint", "number")
      config_error(function() custom({}) end, "endpoint", "url")
    end)
  end)

  describe("bad input", function()
    it("refuses malformed regions, naming them", function()
      for _, region in ipairs {"us east 1", "us-east-1/", "../etc", "eu-west-1.evil.com", "-us-east-1",
        "us-east-1-", "us_east_1", string.rep("a", 64)} do
        config_error(function() resolve("ec2", region) end, "region", region)
      end
      config_error(function() resolve("ec2", "") end, "region", "empty")
      config_error(function() resolve("ec2", 42) end, "region", "number")
    end)

    it("needs a region for regional services", function()
      config_error(function() resolve("ec2", nil) end, "Missing region", "ec2")
    end)

    it("refuses bad options", function()
      config_error(function() endpoints.resolve("ec2") end, "options table")
      config_error(function() endpoints.resolve {region = "us-east-1", env = {}} end, "endpointPrefix")
      config_error(function() resolve("ec2", "us-east-1", {sslEnabled = "yes"}) end, "sslEnabled")
    end)
  end)
end)

describe("s3.address", function()
  local s3 = require "awspromise.s3"

  local function base(region, extra)
    return endpoints.resolve(opts_for("s3", region, extra))
  end

  -- The URL of a request for `bucket` whose path the REST binding built, then the address and
  -- the path below it.
  local function url_of(endpoint, bucket, path, options)
    local address, below = s3.address(endpoint, bucket, path, options)
    return address.baseUrl .. below, address, below
  end

  it("virtual-hosts DNS-compatible bucket names", function()
    local url, a, path = url_of(base("eu-west-1"), "my-bucket", "/my-bucket/photos/cat.jpg")
    assert.are.equal("https://my-bucket.s3.eu-west-1.amazonaws.com/photos/cat.jpg", url)
    assert.are.equal("my-bucket.s3.eu-west-1.amazonaws.com", a.hostname)
    assert.are.equal("/photos/cat.jpg", path)
    assert.is_true(a.virtualHosted)
    assert.are.equal("https://my-bucket.s3.amazonaws.com/k", url_of(base("us-east-1"), "my-bucket", "/my-bucket/k"))
    assert.are.equal("https://my-bucket.s3.us-east-1.amazonaws.com/k", url_of(
      base("us-east-1", {s3UsEast1RegionalEndpoint = "regional"}), "my-bucket", "/my-bucket/k"))
    assert.are.equal("https://my-bucket.s3.dualstack.eu-west-1.amazonaws.com/k", url_of(
      base("eu-west-1", {useDualstackEndpoint = true}), "my-bucket", "/my-bucket/k"))
    assert.are.equal("https://abc.s3.cn-north-1.amazonaws.com.cn/", url_of(base("cn-north-1"), "abc", "/abc"))
    assert.are.equal("https://abc.s3.eu-west-1.amazonaws.com/", url_of(base("eu-west-1"), "abc", "/abc/"))
    local name63 = string.rep("a", 63)
    assert.is_true(select(2, url_of(base("eu-west-1"), name63, "/" .. name63 .. "/k")).virtualHosted)
  end)

  it("uses path style for names DNS cannot carry", function()
    local cases = {
      -- bucket, request path, url over https from eu-west-1
      {"my.bucket", "/my.bucket/k", "https://s3.eu-west-1.amazonaws.com/my.bucket/k"}, -- dots break the TLS wildcard
      {"MyBucket", "/MyBucket/k", "https://s3.eu-west-1.amazonaws.com/MyBucket/k"},    -- upper case
      {"my_bucket", "/my_bucket/k", "https://s3.eu-west-1.amazonaws.com/my_bucket/k"}, -- underscore
      {"192.168.5.4", "/192.168.5.4/k", "https://s3.eu-west-1.amazonaws.com/192.168.5.4/k"}, -- IP-like
      {"ab", "/ab/k", "https://s3.eu-west-1.amazonaws.com/ab/k"},                      -- too short
      {string.rep("b", 64), "/" .. string.rep("b", 64) .. "/k",
        "https://s3.eu-west-1.amazonaws.com/" .. string.rep("b", 64) .. "/k"},
      {"my..bucket", "/my..bucket/k", "https://s3.eu-west-1.amazonaws.com/my..bucket/k"},
      {"-bucket", "/-bucket/k", "https://s3.eu-west-1.amazonaws.com/-bucket/k"},
      {"bucket-", "/bucket-/k", "https://s3.eu-west-1.amazonaws.com/bucket-/k"},
      {"my bucket", "/my%20bucket/k", "https://s3.eu-west-1.amazonaws.com/my%20bucket/k"},
    }
    for _, c in ipairs(cases) do
      local url, a = url_of(base("eu-west-1"), c[1], c[2])
      assert.are.equal(c[3], url, c[1])
      assert.are.equal("s3.eu-west-1.amazonaws.com", a.hostname, c[1])
      assert.is_false(a.virtualHosted, c[1])
    end
    assert.are.equal("https://s3.eu-west-1.amazonaws.com/MyBucket", url_of(base("eu-west-1"), "MyBucket", "/MyBucket"))
  end)

  it("virtual-hosts dotted names over http, but never IP-like ones", function()
    local b = base("eu-west-1", {sslEnabled = false})
    assert.are.equal("http://my.bucket.s3.eu-west-1.amazonaws.com/k", url_of(b, "my.bucket", "/my.bucket/k"))
    assert.are.equal("http://s3.eu-west-1.amazonaws.com/10.0.0.1/k", url_of(b, "10.0.0.1", "/10.0.0.1/k"))
    assert.are.equal("http://s3.eu-west-1.amazonaws.com/a.1.2.3.4.b/k", url_of(b, "a.1.2.3.4.b", "/a.1.2.3.4.b/k"))
  end)

  it("s3ForcePathStyle forces path style", function()
    local url, a = url_of(base("eu-west-1"), "my-bucket", "/my-bucket/k", {s3ForcePathStyle = true})
    assert.are.equal("https://s3.eu-west-1.amazonaws.com/my-bucket/k", url)
    assert.is_false(a.virtualHosted)
    assert.are.equal("https://s3.amazonaws.com/my-bucket", url_of(base("us-east-1"), "my-bucket", "/my-bucket",
      {s3ForcePathStyle = true}))
  end)

  it("on custom endpoints: virtual hosts under a DNS name, path style for IPs, single labels and paths", function()
    local function on(endpoint, bucket, opts)
      return (url_of(base("us-east-1", {endpoint = endpoint}), bucket, "/" .. bucket .. "/k", opts))
    end
    assert.are.equal("https://my-bucket.minio.example.com/k", on("https://minio.example.com", "my-bucket"))
    assert.are.equal("http://my-bucket.s3.example.com:9000/k", on("http://s3.example.com:9000", "my-bucket"))
    assert.are.equal("http://localhost:4566/my-bucket/k", on("http://localhost:4566", "my-bucket"))
    assert.are.equal("http://minio:9000/my-bucket/k", on("http://minio:9000", "my-bucket"))
    assert.are.equal("http://127.0.0.1:9000/my-bucket/k", on("http://127.0.0.1:9000", "my-bucket"))
    assert.are.equal("http://[::1]:9000/my-bucket/k", on("http://[::1]:9000", "my-bucket"))
    assert.are.equal("https://gw.example.com/s3/my-bucket/k", on("https://gw.example.com/s3", "my-bucket"))
    assert.are.equal("https://minio.example.com/my-bucket/k", on("https://minio.example.com", "my-bucket",
      {s3ForcePathStyle = true}))
    assert.are.equal("https://minio.example.com/my.bucket/k", on("https://minio.example.com", "my.bucket"))
    -- a parsed endpoint URL works as the endpoint too
    assert.are.equal("http://localhost:4566/b-1/k", url_of(endpoints.parse_url("http://localhost:4566"), "b-1", "/b-1/k"))
    assert.are.equal("https://b-1.s3.example.com/", url_of(endpoints.parse_url("s3.example.com"), "b-1", "/b-1"))
  end)

  it("s3BucketEndpoint: the endpoint is the bucket's own address", function()
    local url, a = url_of(base("us-east-1", {endpoint = "https://files.example.com"}), "my-bucket", "/my-bucket/k",
      {s3BucketEndpoint = true})
    assert.are.equal("https://files.example.com/k", url)
    assert.are.equal("bucket-endpoint", a.style)
  end)

  it("gives the host and the path below the endpoint for a request path", function()
    local rows = {
      -- endpoint, request path, bucket, options, want host, want path
      {"https://s3.eu-west-1.amazonaws.com", "/my-bucket/a/b.txt", "my-bucket", {},
        "my-bucket.s3.eu-west-1.amazonaws.com", "/a/b.txt"},
      {"https://s3.eu-west-1.amazonaws.com", "/my-bucket", "my-bucket", {}, "my-bucket.s3.eu-west-1.amazonaws.com", "/"},
      {"https://s3.eu-west-1.amazonaws.com", "/my-bucket/", "my-bucket", {}, "my-bucket.s3.eu-west-1.amazonaws.com", "/"},
      {"https://s3.eu-west-1.amazonaws.com", "/my-bucketx/k", "my-bucket", {},
        "my-bucket.s3.eu-west-1.amazonaws.com", "/my-bucketx/k"},
      {"https://s3.eu-west-1.amazonaws.com", "/my.bucket/k", "my.bucket", {}, "s3.eu-west-1.amazonaws.com", "/my.bucket/k"},
      {"http://s3.eu-west-1.amazonaws.com", "/my.bucket/k", "my.bucket", {}, "my.bucket.s3.eu-west-1.amazonaws.com", "/k"},
      {"https://s3.eu-west-1.amazonaws.com", "/Up/k", "Up", {}, "s3.eu-west-1.amazonaws.com", "/Up/k"},
      {"https://s3.eu-west-1.amazonaws.com", "/b-1/k", "b-1", {s3ForcePathStyle = true}, "s3.eu-west-1.amazonaws.com",
        "/b-1/k"},
      {"http://127.0.0.1:9000", "/b-1/k", "b-1", {}, "127.0.0.1:9000", "/b-1/k"},
      {"http://s3.example.com:9000", "/b-1/k", "b-1", {}, "b-1.s3.example.com:9000", "/k"},
      {"https://gw.example.com/s3", "/b-1/k", "b-1", {}, "gw.example.com", "/b-1/k"},
      {"https://files.example.com", "/b-1/k", "b-1", {s3BucketEndpoint = true}, "files.example.com", "/k"},
      {"https://files.example.com", "/my%20bucket/k", "my bucket", {s3BucketEndpoint = true}, "files.example.com", "/k"},
      {"https://files.example.com", "/my%20bucket", "my bucket", {s3BucketEndpoint = true}, "files.example.com", "/"},
    }
    for _, r in ipairs(rows) do
      local address, path = s3.address(endpoints.parse_url(r[1]), r[3], r[2], r[4])
      assert.are.same({r[5], r[6]}, {address.host, path}, r[1] .. r[2])
    end
  end)

  it("takes the bucket off the paths the REST binding builds", function()
    local core = require "awspromise.core"
    local models = require "awspromise.models"
    local model = core.model_load(models.read("s3", models.pick("s3")))
    local function path_of(operation, params) return core.build_request(model, operation, params).path end
    local files = endpoints.parse_url("https://files.example.com")
    local rows = {
      -- operation, params, options, want URL
      {"GetObject", {Bucket = "my-bucket", Key = "a b/c.txt"}, {}, "https://my-bucket.s3.amazonaws.com/a%20b/c.txt"},
      {"GetBucketAcl", {Bucket = "my-bucket"}, {}, "https://my-bucket.s3.amazonaws.com/"},
      {"GetObject", {Bucket = "My_Bucket", Key = "k"}, {}, "https://s3.amazonaws.com/My_Bucket/k"},
      {"GetObject", {Bucket = "my bucket", Key = "k"}, {s3BucketEndpoint = true}, "https://files.example.com/k"},
      {"HeadBucket", {Bucket = "my bucket"}, {s3BucketEndpoint = true}, "https://files.example.com/"},
    }
    for _, r in ipairs(rows) do
      local endpoint = r[3].s3BucketEndpoint and files or base("us-east-1")
      assert.are.equal(r[4], url_of(endpoint, r[2].Bucket, path_of(r[1], r[2]), r[3]), r[1] .. " " .. r[2].Bucket)
    end
  end)

  it("decides once per endpoint, options and bucket, in a bounded memory", function()
    local endpoint, options = base("eu-west-1"), {}
    local first = s3.address(endpoint, "my-bucket", "/my-bucket/k", options)
    local again, path = s3.address(endpoint, "my-bucket", "/my-bucket/other", options)
    assert.are.equal(first, again)
    assert.are.equal("/other", path)
    -- other options are another decision, even on the same endpoint
    local forced = s3.address(endpoint, "my-bucket", "/my-bucket/k", {s3ForcePathStyle = true})
    assert.are.equal("path", forced.style)
    assert.are.equal("virtual", s3.address(endpoint, "my-bucket", "/my-bucket/k", {}).style)
    -- many buckets later the first decision has been forgotten and is made again, the same
    local kept = s3.address(endpoint, "my-bucket", "/my-bucket/k", options)
    for i = 1, s3.ADDRESS_CACHE_LIMIT do s3.address(endpoint, "bucket-" .. i, "/bucket-" .. i .. "/k", options) end
    local remade = s3.address(endpoint, "my-bucket", "/my-bucket/k", options)
    assert.are_not.equal(kept, remade)
    assert.are.same(kept, remade)
  end)

  it("names what is wrong", function()
    config_error(function() s3.address(base("eu-west-1"), nil, "/k") end, "bucket")
    config_error(function() s3.address(base("eu-west-1"), "", "/k") end, "bucket")
    config_error(function() s3.address(42, "b-1", "/b-1/k") end, "endpoint", "number")
    config_error(function() s3.address("http://localhost:4566", "b-1", "/b-1/k") end, "endpoint", "string")
    config_error(function() s3.address(endpoints.parse_url("gopher://x"), "b-1", "/b-1/k") end, "gopher")
    config_error(function() s3.address(base("eu-west-1"), "b-1", "b-1/k") end, "path", "'b-1/k'")
    config_error(function() s3.address(base("eu-west-1"), "b-1", nil) end, "path", "nil")
    config_error(function() s3.address(base("eu-west-1"), "b-1", "/b-1/k", "path") end, "options", "string")
  end)

  it("dns_compatible_bucket follows the DNS naming rules", function()
    for _, name in ipairs {"abc", "my-bucket", "my.bucket", "a1-b2.c3", string.rep("x", 63)} do
      assert.is_true(s3.dns_compatible_bucket(name), name)
    end
    for _, name in ipairs {"ab", string.rep("x", 64), "MyBucket", "my_bucket", "my..bucket", "my-.bucket",
      "my.-bucket", "-abc", "abc-", ".abc", "abc.", "192.168.1.1", "x.10.0.0.1", "a b", 42} do
      assert.is_false(s3.dns_compatible_bucket(name), tostring(name))
    end
  end)
end)

describe("every shipped service", function()
  it("resolves in the aws, aws-cn and aws-us-gov partitions to a host of its endpointPrefix", function()
    local models = require "awspromise.models"
    local core = require "awspromise.core"
    local n = 0
    for id in pairs(models.services()) do
      local meta = core.model_load(models.read(id)):metadata()
      for _, region in ipairs {"us-west-2", "cn-north-1", "us-gov-west-1"} do
        local ep = endpoints.resolve {serviceId = id, sdkServiceId = meta.serviceId, endpointPrefix = meta.endpointPrefix,
          signingName = meta.signingName, globalEndpoint = meta.globalEndpoint, region = region, env = {}}
        local label = id .. " " .. region
        assert.truthy(ep.url:match("^https://[%w.-]+$"), label .. ": " .. ep.url)
        assert.truthy(ep.hostname:find(meta.endpointPrefix, 1, true), label .. ": " .. ep.hostname)
        assert.truthy(ep.hostname:match("%.amazonaws%.com$") or ep.hostname:match("%.amazonaws%.com%.cn$")
          or ep.hostname:match("%.api%.aws$"), label .. ": " .. ep.hostname)
        assert.are.equal(meta.signingName or meta.endpointPrefix, ep.signingName, label)
        assert.truthy(ep.signingRegion:match("^%l%l%l?%-[%l-]+%-%d$"), label .. ": " .. ep.signingRegion)
      end
      n = n + 1
    end
    assert.are.equal(385, n)
  end)
end)
