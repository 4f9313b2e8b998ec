-- As paths.lua, with one header added to every request and the answers counted by status:
-- done() prints "statuses: 200=N 429=M ..." after wrk's own summary.
-- Usage: wrk -t1 ... -s statuses.lua URL -- FILE [HEADER_NAME HEADER_VALUE]
local paths = {}
local next_index = 1
counts = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("no paths in " .. args[1])
  end
  if args[2] then
    wrk.headers[args[2]] = args[3]
  end
  next_index = (wrk.thread and tonumber(tostring(wrk.thread):match("%x+$"), 16) or 0) % #paths + 1
end

function request()
  local path = paths[next_index]
  next_index = next_index % #paths + 1
  return wrk.format("GET", path)
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local seen = thread:get("counts")
    for status, n in pairs(seen) do
      total[status] = (total[status] or 0) + n
    end
  end
  local line = "statuses:"
  for status, n in pairs(total) do
    line = line .. " " .. status .. "=" .. n
  end
  print(line)
end
