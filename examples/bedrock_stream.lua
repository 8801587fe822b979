-- A chat completion printed token by token: Bedrock Runtime converseStream. The request fulfils
-- as soon as the reply's head is in; the words then arrive as events while the model writes them.
-- `make demo` points AWS_ENDPOINT_URL_BEDROCK_RUNTIME at a local fixture (tools/eventstream_fixture.py).
local AWS = require "awspromise"

local bedrock = AWS.BedrockRuntime({region = os.getenv("AWS_REGION") or "us-east-1"})
local modelId = os.getenv("BEDROCK_MODEL_ID") or "chat"

AWS.async(function()
  local data = bedrock:converseStream({
    modelId = modelId,
    messages = {{role = "user", content = {{text = "Why would a script stream a model's answer?"}}}},
  }):promise():await()
  for event in data.stream:events() do
    if event.contentBlockDelta then
      io.write(event.contentBlockDelta.delta.text or "")
      io.stdout:flush()
    elseif event.messageStop then
      io.write("\n[stop: ", event.messageStop.stopReason, "]\n")
    elseif event.metadata then
      local usage = event.metadata.usage
      print(("[%d tokens in, %d out, %d ms]"):format(usage.inputTokens, usage.outputTokens,
        event.metadata.metrics.latencyMs))
    end
  end

  -- The same stream, JS v2 style: listeners on the stream object.
  local again = bedrock:converseStream({modelId = modelId,
    messages = {{role = "user", content = {{text = "Once more, as listeners."}}}}}):promise():await()
  local deltas = 0
  again.stream:on("data", function(event) if event.contentBlockDelta then deltas = deltas + 1 end end)
  again.stream:on("end", function() print(("listeners saw %d deltas"):format(deltas)) end)
  again.stream:on("error", function(err) print("stream failed: " .. tostring(err)) end)
end):catch(function(err)
  io.stderr:write("bedrock_stream failed: ", tostring(err), "\n")
  os.exit(1)
end)
AWS.run()
