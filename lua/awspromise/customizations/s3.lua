-- S3: the managed upload (s3:upload, AWS.S3.ManagedUpload) on every client.
local s3_upload = require "awspromise.s3_upload"

local function setup(service)
  service.upload = s3_upload.method
end

return {setup = setup, classMembers = {ManagedUpload = function() return s3_upload.ManagedUpload end}}
