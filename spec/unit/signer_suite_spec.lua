-- The SigV4 signer against external expectations: every case of the aws-c-auth v4 test suite in
-- both header and query (presigned) form, and every value of the S3 documentation examples.
local signer = require("awspromise.signer")
local cases = require "support.sigv4_cases"

local root, why = cases.root()

describe("signer against the aws-c-auth v4 suite", function()
  if not root then
    print(why)
    pending(why)
    return
  end

  local names = cases.aws_case_names(root)
  local passed = { header = 0, query = 0 }

  it("finds all 38 cases", function()
    assert.are.equal(38, #names)
  end)

  for _, form in ipairs({ "header", "query" }) do
    describe(form .. " form", function()
      for _, name in ipairs(names) do
        it(name, function()
          local c = cases.load_aws_case(root, name)
          local want = c.expect[form]
          local request, creds, opts = cases.signer_args(c, form)
          local got = signer.sign(request, creds, opts)
          assert.are.equal(want.canonical_request, got.canonical_request)
          assert.are.equal(want.string_to_sign, got.string_to_sign)
          assert.are.equal(want.signature, got.signature)
          assert.are.equal(want.signed_request, cases.signed_request(c, got, form))
          -- the separately exposed steps agree with the whole
          local cr = signer.canonical_request(request, opts, creds)
          assert.are.equal(want.canonical_request, cr)
          assert.are.equal(want.string_to_sign, signer.string_to_sign(cr, opts))
          assert.are.equal(want.signature, signer.signature(want.string_to_sign, creds, opts))
          passed[form] = passed[form] + 1
        end)
      end
    end)
  end

  teardown(function()
    print(("\nsigv4 suite: %d/%d header, %d/%d query"):format(passed.header, #names, passed.query, #names))
  end)
end)

describe("signer against the S3 documentation examples", function()
  if not root then
    print(why)
    pending(why)
    return
  end

  local data = cases.load_s3_examples(root)
  local creds = { accessKeyId = data.credentials.access_key_id, secretAccessKey = data.credentials.secret_access_key }
  local base = { time = data.timestamp, region = data.region, service = data.service }
  local total, passed = 0, 0

  local function opts(extra)
    local o = {}
    for k, v in pairs(base) do o[k] = v end
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end

  local function example(name, fn)
    total = total + 1
    it(name, function()
      fn()
      passed = passed + 1
    end)
  end

  for _, ex in ipairs(data.header_examples) do
    example("header auth: " .. ex.name, function()
      local host, path, query = cases.split_url(ex.url)
      local headers = { { "Host", host } }
      for k, v in pairs(ex.headers) do headers[#headers + 1] = { k, v } end
      local got = signer.sign({ method = ex.method, path = path, query = query, headers = headers, body = ex.body },
        creds, opts())
      if ex.expected_canonical_request then
        assert.are.equal(ex.expected_canonical_request, got.canonical_request)
      end
      if ex.expected_string_to_sign then
        assert.are.equal(ex.expected_string_to_sign, got.string_to_sign)
      end
      assert.are.equal(ex.expected_signed_headers, got.signed_headers)
      assert.are.equal(ex.expected_signature, got.signature)
      -- S3 signs the payload hash it is sent: the one the example carries
      assert.are.equal(ex.headers["x-amz-content-sha256"], got["x-amz-content-sha256"])
      assert.are.equal(("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"):format(
        creds.accessKeyId, got.scope, ex.expected_signed_headers, ex.expected_signature), got.Authorization)
    end)
  end

  local pre = data.presigned_url_example
  example("presigned URL", function()
    local host, path = cases.split_url(pre.url)
    local got = signer.sign({ method = pre.method, path = path, headers = { { "Host", host } },
      payload_hash = pre.payload_hash }, creds, opts({ presign = pre.expires }))
    assert.are.equal(pre.expected_signature, got.signature)
    -- the example URL lists the parameters in canonical (sorted) order
    assert.are.equal(pre.expected_url, "https://" .. host .. got.url:gsub("%?.*$", "") .. "?" ..
      got.canonical_query .. "&X-Amz-Signature=" .. got.signature)
    assert.truthy(got.canonical_request:find("\nUNSIGNED%-PAYLOAD$"))
  end)

  local st = data.streaming_chunked_upload_example
  local _, st_path = cases.split_url(st.url)
  local function st_headers()
    local h = {}
    for k, v in pairs(st.headers) do h[#h + 1] = { k, v } end
    return h
  end

  example("chunked upload: seed signature", function()
    local got = signer.sign({ method = st.method, path = st_path, headers = st_headers(),
      payload_hash = st.headers["x-amz-content-sha256"] }, creds, opts())
    assert.are.equal(st.expected_signed_headers, got.signed_headers)
    assert.are.equal(st.expected_seed_signature, got.signature)
  end)

  for i, chunk in ipairs(st.expected_chunks) do
    example(("chunked upload: chunk %d (%d bytes)"):format(i, chunk.size), function()
      local prev = i == 1 and st.expected_seed_signature or st.expected_chunks[i - 1].signature
      local data_ = string.rep(chunk.byte, chunk.size)
      assert.are.equal(chunk.signature, signer.chunk_signature(prev, data_, opts(), creds))
    end)
  end

  local tr = st.trailer_extension_from_aws_c_auth_tests
  example("chunked upload: trailer signature", function()
    local prev = st.expected_chunks[#st.expected_chunks].signature
    assert.are.equal(tr.expected_signature, signer.trailer_signature(prev, tr.trailing_headers, opts(), creds))
  end)

  teardown(function()
    print(("\ns3 documentation examples: %d/%d"):format(passed, total))
  end)
end)
