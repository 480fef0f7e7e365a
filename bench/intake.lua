-- wrk script for the intake benchmark.
-- wrk runs one Lua VM per thread, so per-thread state lives in globals that the main
-- VM reads back through thread:get() in done().

local threads = {}
local prefixes = { "091", "094", "088", "096", "097", "098", "086", "090", "093", "089" }

function setup(thread)
  table.insert(threads, thread)
  -- Each thread gets a distinct id so bodies never repeat across threads.
  thread:set("thread_id", #threads)
end

function init(args)
  -- args[1] is a per-invocation tag, so runs (and warm-up) never repeat each other's bodies
  -- and the product cannot deduplicate by description/phone.
  run_tag = args[1] or "run"
  counter = 0
  non2xx = 0
  -- Non-2xx responses by status, so a failing run says *why* (401? 409? 500?).
  bad_status = {}
  -- wrk.format() uses this table *instead of* wrk.headers, so copy the -H headers
  -- (the bearer token) in; otherwise every product request goes out unauthenticated.
  headers = {}
  for k, v in pairs(wrk.headers) do
    headers[k] = v
  end
  headers["Content-Type"] = "application/json"
  prefix = prefixes[((thread_id or 1) - 1) % #prefixes + 1]
end

function request()
  counter = counter + 1
  local phone = string.format("%s%07d", prefix, counter % 10000000)
  local body = string.format(
    '{"channel":"phone","description":"Nhà tôi có 4 người, mất việc do bão, cần hỗ trợ khó khăn '
      .. '(%s-t%d-#%d)","category":"ho_tro_kho_khan","contact":{"name":"Nguyễn Văn A",'
      .. '"phone":"%s"},"ward_code":"00004","address":"Số %d Kim Mã"}',
    run_tag, thread_id, counter, phone, counter % 500 + 1)
  return wrk.format("POST", nil, headers, body)
end

function response(status, hdrs, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    local key = tostring(status)
    bad_status[key] = (bad_status[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  local by_status = {}
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    for code, n in pairs(t:get("bad_status") or {}) do
      by_status[code] = (by_status[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(by_status) do
    table.insert(parts, string.format('"%s":%d', code, n))
  end
  local e = summary.errors
  -- One machine-readable line; the Python wrapper looks for the BENCH_JSON marker.
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f},'
      .. '"non2xx_by_status":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, table.concat(parts, ",")))
end
