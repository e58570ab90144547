-- wrk script for bench/run: one POST request, repeated, and a machine-readable summary.
--
-- Configured through the environment (wrk passes its own environment to Lua):
--   BENCH_AUTH          value of the Authorization header ("Bearer <jwt>", "Basic <b64>")
--   BENCH_BODY          request body (default: none)
--   BENCH_CONTENT_TYPE  Content-Type header (default: none)
--   BENCH_COUNT_STATUS  "1": count responses per status code (costs wrk some CPU per response,
--                       so the /validate runs leave it off; wrk's own non-2xx count still works)
--   BENCH_DELAY_MS      pause each connection this long before each request: a paced load
--                       below saturation, where latency shows the server rather than the queue
--
-- By hand: BENCH_AUTH="Bearer $TOKEN" wrk -t2 -c16 -d10s --latency -s bench/request.lua \
--            http://127.0.0.1:5000/validate
--
-- done() prints lines "BENCH <key> <value>" (latencies in microseconds) after wrk's report.

wrk.method = "POST"
wrk.headers["Connection"] = "keep-alive"

local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
   wrk.headers["Authorization"] = auth
end
local content_type = os.getenv("BENCH_CONTENT_TYPE")
if content_type and content_type ~= "" then
   wrk.headers["Content-Type"] = content_type
end
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
   wrk.body = body
end

local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pause then
   function delay()
      return pause
   end
end

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

if os.getenv("BENCH_COUNT_STATUS") == "1" then
   statuses = {}
   function response(status, headers, body)
      statuses[status] = (statuses[status] or 0) + 1
   end
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local e = summary.errors
   local out = {
      requests = summary.requests,
      duration_s = string.format("%.3f", seconds),
      rps = string.format("%.1f", summary.requests / seconds),
      lat_mean_us = string.format("%.0f", latency.mean),
      lat_p50_us = latency:percentile(50),
      lat_p90_us = latency:percentile(90),
      lat_p99_us = latency:percentile(99),
      lat_max_us = latency.max,
      err_connect = e.connect,
      err_read = e.read,
      err_write = e.write,
      err_timeout = e.timeout,
      non2xx = e.status,
   }
   local keys = {}
   for k in pairs(out) do
      table.insert(keys, k)
   end
   table.sort(keys)
   for _, k in ipairs(keys) do
      io.write(string.format("BENCH %s %s\n", k, tostring(out[k])))
   end
   if os.getenv("BENCH_COUNT_STATUS") == "1" then
      local total = {}
      for _, thread in ipairs(threads) do
         local counts = thread:get("statuses") or {}
         for status, n in pairs(counts) do
            total[status] = (total[status] or 0) + n
         end
      end
      for status, n in pairs(total) do
         io.write(string.format("BENCH status_%d %d\n", status, n))
      end
   end
end
