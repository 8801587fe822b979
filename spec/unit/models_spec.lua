-- The shipped service models: metadata, files, version picking, laziness, the directory lookup,
-- and the time to load the EC2 model (printed, not asserted).
local models = require "awspromise.models"
local core = require "awspromise.core"

local function config_error(fn, ...)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  assert.are.equal("table", type(err), tostring(err))
  assert.are.equal("ConfigError", err.code)
  for _, fragment in ipairs({...}) do
    assert.truthy(err.message:find(fragment, 1, true), "'" .. fragment .. "' not in: " .. err.message)
  end
  return err
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local shell_quote = require("support.loop").quote

describe("models", function()
  describe("metadata.json", function()
    it("lists 385 service ids with class names, prefixes and cors flags", function()
      local services = models.services()
      local ids, names, prefixes, cors = 0, {}, 0, 0
      for id, info in pairs(services) do
        ids = ids + 1
        assert.are.equal("string", type(id))
        assert.are.equal("table", type(info), id)
        assert.are.equal("string", type(info.name), id)
        assert.truthy(info.name:match("^%u[%w]*$"), id .. ": class name " .. info.name)
        assert.is_nil(names[info.name], "class name " .. info.name .. " is unique")
        names[info.name] = id
        if info.prefix ~= nil then
          assert.are.equal("string", type(info.prefix), id)
          prefixes = prefixes + 1
        end
        if info.cors ~= nil then
          assert.are.equal("boolean", type(info.cors), id)
          cors = cors + 1
        end
      end
      assert.are.equal(385, ids)
      assert.are.equal(131, prefixes, "ids with a file prefix")
      assert.are.equal(92, cors, "ids with a cors flag")
      assert.are.same({name = "S3", dualstackAvailable = true, cors = true}, services.s3)
      assert.are.equal("ApplicationAutoScaling", services.applicationautoscaling.name)
      assert.are.equal("application-autoscaling", services.applicationautoscaling.prefix)
      for _, class in ipairs {"S3", "EC2", "DynamoDB", "SQS", "Lambda", "CloudWatchLogs", "IAM", "STS"} do
        assert.truthy(names[class], class)
      end
    end)

    it("is decoded once per state", function()
      assert.are.equal(models.services(), models.services())
    end)

    it("maps class names to ids", function()
      assert.are.equal("cloudwatchlogs", models.id_for_class("CloudWatchLogs"))
      assert.are.equal("ec2", models.id_for_class("EC2"))
      assert.is_nil(models.id_for_class("NoSuchService"))
    end)
  end)

  describe("files", function()
    it("every id has a min.json for each shipped version, and they load as models", function()
      local files, t0 = 0, os.clock()
      for id in pairs(models.services()) do
        local versions = models.versions(id)
        assert.is_true(#versions >= 1, id)
        for i, v in ipairs(versions) do
          assert.truthy(v:match("^%d%d%d%d%-%d%d%-%d%d$"), id .. " " .. v)
          if i > 1 then assert.is_true(versions[i - 1] < v, id .. " versions sorted") end
          local path = models.path(id, v)
          assert.truthy(path:find("/" .. models.prefix(id) .. "-" .. v .. ".min.json", 1, true), path)
          assert.is_true(exists(path), path)
          local meta = core.model_load(models.read(id, v)):metadata()
          assert.are.equal(v, meta.apiVersion, id)
          assert.are.equal("string", type(meta.endpointPrefix), id)
          assert.are.equal("string", type(meta.protocol), id)
          files = files + 1
        end
      end
      print(("\n  %d model files checked and loaded in %.0f ms"):format(files, (os.clock() - t0) * 1000))
      assert.are.equal(400, files)
    end)

    it("ships paginators and waiters next to the models, not examples or docs", function()
      local pag = models.read_extra("dynamodb", "2012-08-10", "paginators")
      assert.truthy(pag:find('"pagination"', 1, true))
      local waiters = models.read_extra("s3", nil, "waiters2")
      assert.truthy(waiters:find('"BucketExists"', 1, true))
      assert.is_nil(models.read_extra("account", nil, "waiters2"), "no waiters file for account")
      assert.is_false(exists(models.dir() .. "/s3-2006-03-01.examples.json"))
      assert.is_true(exists(models.dir() .. "/NOTICE"))
      local notice = models.read_data("NOTICE")
      assert.truthy(notice:find("aws-sdk@2.1693.0", 1, true))
      assert.truthy(notice:find("Apache License", 1, true))
      config_error(function() models.read_extra("s3", nil, "examples") end, "paginators")
      config_error(function() models.read_data("../Makefile") end, "plain file name")
    end)

    it("uses the metadata prefix in file names", function()
      assert.are.equal("application-autoscaling", models.prefix("applicationautoscaling"))
      assert.are.equal("ec2", models.prefix("ec2"))
      assert.truthy(models.path("applicationautoscaling", nil):match("/application%-autoscaling%-%d+%-%d+%-%d+%.min%.json$"))
      -- "ec2-instance-connect-..." files are not EC2 versions
      assert.are.same({"2016-11-15"}, models.versions("ec2"))
      assert.are.same({"2018-04-02"}, models.versions("ec2instanceconnect"))
    end)

    it("read() refuses versions that are not shipped, naming the shipped ones", function()
      config_error(function() models.read("dynamodb", "2013-01-01") end, "dynamodb", "2011-12-05, 2012-08-10")
      config_error(function() models.read("nosuchservice") end, "nosuchservice")
    end)

    it("returns copies of the version lists", function()
      local v = models.versions("dynamodb")
      v[1] = "mutated"
      assert.are.same({"2011-12-05", "2012-08-10"}, models.versions("dynamodb"))
    end)
  end)

  describe("pick", function()
    it("the newest shipped version not newer than the asked date; older dates get the oldest", function()
      local rows = {
        {"ec2", "2014-10-01", "2016-11-15"},   -- the seed: older than every shipped EC2 model
        {"ec2", nil, "2016-11-15"},
        {"ec2", "2016-11-15", "2016-11-15"},
        {"ec2", "2030-01-01", "2016-11-15"},
        {"s3", "2006-03-01", "2006-03-01"},
        {"dynamodb", nil, "2012-08-10"},
        {"dynamodb", "latest", "2012-08-10"},
        {"dynamodb", "2011-12-05", "2011-12-05"},
        {"dynamodb", "2012-01-01", "2011-12-05"},
        {"dynamodb", "2012-08-09", "2011-12-05"},
        {"dynamodb", "2012-08-10", "2012-08-10"},
        {"dynamodb", "2099-12-31", "2012-08-10"},
        {"dynamodb", "1999-01-01", "2011-12-05"},
        {"rds", "2014-09-15", "2014-09-01"},
        {"rds", "2013-02-12", "2013-02-12"},
        {"cloudfront", "2017-01-01", "2016-11-25"},
        {"cloudfront", "2016-01-01", "2016-11-25"},
        {"cloudfront", nil, "2020-05-31"},
        {"lambda", "2015-01-01", "2014-11-11"},
      }
      for _, r in ipairs(rows) do
        assert.are.equal(r[3], models.pick(r[1], r[2]), r[1] .. " " .. tostring(r[2]))
      end
    end)

    it("refuses malformed versions with a ConfigError naming the service and its versions", function()
      for _, bad in ipairs {"2014-1-01", "20141001", "2014-13-01", "2014-10-32", "2014-10-00", "latest ", "", "newest"} do
        config_error(function() models.pick("dynamodb", bad) end, "dynamodb", "2011-12-05, 2012-08-10", bad)
      end
      config_error(function() models.pick("ec2", 20141001) end, "ec2", "2016-11-15", "number")
      config_error(function() models.pick("nosuch", nil) end, "unknown service id", "nosuch")
      config_error(function() models.pick(42, nil) end, "string")
    end)
  end)

  describe("laziness and location", function()
    it("reads nothing at require time, then only what is asked for", function()
      local opened = {}
      local real_open = io.open
      io.open = function(path, ...)
        opened[#opened + 1] = path:match("[^/]*$")
        return real_open(path, ...)
      end
      local saved = package.loaded["awspromise.models"]
      package.loaded["awspromise.models"] = nil
      local ok, err = pcall(function()
        local fresh = require "awspromise.models"
        assert.are.same({}, opened)
        fresh.pick("sqs", nil)
        for _, name in ipairs(opened) do
          assert.truthy(name == "metadata.json" or name == "index.json", "opened " .. name)
        end
        local before = #opened
        fresh.read("sqs")
        assert.are.equal(before + 1, #opened)
        assert.truthy(opened[#opened]:match("^sqs%-%d+%-%d+%-%d+%.min%.json$"), opened[#opened])
        fresh.services()
        fresh.versions("sqs")
        assert.are.equal(before + 1, #opened, "metadata and index are not read again")
      end)
      io.open = real_open
      package.loaded["awspromise.models"] = saved
      assert(ok, err)
    end)

    local function run_lua(env, lua_path, code)
      local cmd = env .. " LUA_PATH=" .. shell_quote(lua_path) .. " LUA_CPATH=" .. shell_quote(package.cpath)
        .. " lua5.4 -e " .. shell_quote(code) .. " 2>&1"
      local p = io.popen(cmd)
      local out = p:read("a")
      p:close()
      return out
    end

    local root = require("support.loop").repo_root()

    it("finds the models next to the module (installed layout) and at the repository root", function()
      local tmp = os.tmpname()
      os.remove(tmp)
      assert.is_true(os.execute("mkdir -p " .. shell_quote(tmp .. "/share/awspromise")))
      assert.is_true(os.execute("cp " .. shell_quote(root .. "/lua/awspromise/models.lua") .. " "
        .. shell_quote(root .. "/lua/awspromise/promise.lua") .. " " .. shell_quote(tmp .. "/share/awspromise/")))
      assert.is_true(os.execute("ln -s " .. shell_quote(root .. "/models") .. " " .. shell_quote(tmp .. "/share/awspromise/models")))
      local code = 'local m = require "awspromise.models"; print(m.dir()); print(m.pick("ec2", "2014-10-01"))'
      local out = run_lua("", tmp .. "/share/?.lua;;", code)
      os.execute("rm -rf " .. shell_quote(tmp))
      assert.are.equal(tmp .. "/share/awspromise/models\n2016-11-15\n", out)
      out = run_lua("", root .. "/lua/?.lua;;", code)
      assert.are.equal(root .. "/models\n2016-11-15\n", out)
    end)

    it("AWSPROMISE_MODELS overrides, and a wrong one is a clear error", function()
      local code = 'local m = require "awspromise.models"; local ok, e = pcall(m.dir); print(ok, tostring(e))'
      local out = run_lua("AWSPROMISE_MODELS=" .. shell_quote(root .. "/models/"), root .. "/lua/?.lua;;", code)
      assert.are.equal("true\t" .. root .. "/models\n", out)
      out = run_lua("AWSPROMISE_MODELS=/nonexistent/models", root .. "/lua/?.lua;;", code)
      assert.are.equal("false\tModelError: AWSPROMISE_MODELS=/nonexistent/models has no metadata.json\n", out)
    end)
  end)

  it("EC2 model load time (printed)", function()
    local t0 = os.clock()
    local text = models.read("ec2", models.pick("ec2", "2014-10-01"))
    local t1 = os.clock()
    local model = core.model_load(text)
    local t2 = os.clock()
    assert.truthy(model:operation("DescribeInstances"))
    print(("\n  EC2 model: read %.1f ms, core.model_load %.1f ms (%d bytes; goal <= 30 ms)")
      :format((t1 - t0) * 1000, (t2 - t1) * 1000, #text))
  end)
end)
