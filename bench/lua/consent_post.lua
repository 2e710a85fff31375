-- POST one consent per request, each with its own visitor id and Idempotency-Key.
-- Arguments (after --): run prefix (letters/digits, unique per run), registered origin.
-- done() prints one BENCH_JSON line: counts, latency percentiles (us), responses other than 201.

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1]
  origin = args[2]
  counter = 0
  unexpected = 0
  sample = ""
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Origin"] = origin
  wrk.headers["CF-IPCountry"] = "DE"
  wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
end

function request()
  counter = counter + 1
  local id = string.format("%s%d%09d", prefix, tid, counter)
  wrk.headers["Idempotency-Key"] = "k" .. id
  local body = '{"visitor_id":"v' .. id .. '","action":"custom","granted":["necessary","analytics"],'
    .. '"denied":["marketing"],"versions":{},"language":"en","ui_layer":"second_layer",'
    .. '"gpc":false,"dnt":false,"page_url":"' .. origin .. '/products/42?utm_source=news"}'
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status ~= 201 then
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
