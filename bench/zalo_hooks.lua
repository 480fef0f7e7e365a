-- wrk script for the channels benchmark: signed Zalo webhooks from a file.
-- wrk's Lua has no sha256, so bench/channels.py writes the requests beforehand, one a line:
-- "<signature hex>\t<raw JSON body>", in the order they are to be sent (repeats included).
-- One wrk thread sends them in order; done() prints how many were issued, so the benchmark
-- knows exactly which events went out (and replays the last few still in flight at the end).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  lines = {}
  for line in io.lines(path) do
    local tab = string.find(line, "\t", 1, true)
    lines[#lines + 1] = { string.sub(line, 1, tab - 1), string.sub(line, tab + 1) }
  end
  issued = 0
  non2xx = 0
  bad_status = {}
  headers = {}
  for k, v in pairs(wrk.headers) do
    headers[k] = v
  end
  headers["Content-Type"] = "application/json"
end

function request()
  local item = lines[issued % #lines + 1]
  issued = issued + 1
  headers["X-ZEvent-Signature"] = "mac=" .. item[1]
  return wrk.format("POST", nil, headers, item[2])
end

function response(status, hdrs, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    local key = tostring(status)
    bad_status[key] = (bad_status[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad, sent = 0, 0
  local by_status = {}
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    sent = sent + (t:get("issued") or 0)
    for code, n in pairs(t:get("bad_status") or {}) do
      by_status[code] = (by_status[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(by_status) do
    table.insert(parts, string.format('"%s":%d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"issued":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f},'
      .. '"non2xx_by_status":{%s}}\n',
    summary.requests, sent, summary.duration, summary.bytes, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, table.concat(parts, ",")))
end
