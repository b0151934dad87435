-- wrk script: concurrent reads and writes of todos.
-- Each thread lists todos most of the time, adds some, and deletes only todos it added itself,
-- so every request should succeed. Arguments after `--`: reads percent, JSON field of the text.
-- done() prints one line starting with WRK_JSON that bench/load.py parses.

local reads_percent = 80
local text_field = "todo"
local ids = {}
local added = 0
local threads_started = 0

function setup(thread)
  threads_started = threads_started + 1
  thread:set("thread_number", threads_started)
end

function init(args)
  if args[1] then reads_percent = tonumber(args[1]) end
  if args[2] then text_field = args[2] end
  thread_number = thread_number or 0
  math.randomseed(os.time() * 1000 + thread_number)
end

function request()
  local roll = math.random(100)
  if roll <= reads_percent then
    return wrk.format("GET", "/todos")
  end
  -- Writes alternate between adding and deleting; a delete needs an id this thread received.
  if roll <= reads_percent + (100 - reads_percent) / 2 or #ids == 0 then
    added = added + 1
    local body = string.format('{"%s": "load test todo %d-%d"}', text_field, thread_number, added)
    -- A headers table replaces wrk.headers (the -H options), so copy them in.
    local headers = { ["Content-Type"] = "application/json" }
    for name, value in pairs(wrk.headers) do headers[name] = value end
    return wrk.format("POST", "/todos", headers, body)
  end
  return wrk.format("DELETE", "/todos/" .. table.remove(ids))
end

function response(status, headers, body)
  -- Only 201 Created carries a new todo; a delete's answer may echo the todo it removed.
  if status == 201 and body then
    local id = body:match('"id"%s*:%s*"?([%w%-]+)"?')
    if id then table.insert(ids, id) end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
