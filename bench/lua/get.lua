-- GET with the headers given by -H; counts responses whose status is not the expected one.
-- Argument (after --): the expected status (200 or 304).
-- done() prints one BENCH_JSON line like consent_post.lua.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  expected = tonumber(args[1])
  unexpected = 0
  sample = ""
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
    if sample == "" then
      -- Quotes, backslashes and control characters would break the JSON line.
      sample = string.gsub(status .. " " .. string.sub(body or "", 1, 200), '[%c"\\]', " ")
    end
  end
end

function done(summary, latency, requests)
  local bad, first = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("unexpected") or 0)
    if first == "" then first = thread:get("sample") or "" end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"unexpected":%d,'
      .. '"connect":%d,"read":%d,"write":%d,"timeout":%d,"sample":"%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), bad,
    e.connect, e.read, e.write, e.timeout, first))
end
