-- As paths.lua (loaded from beside this file), with one header added to every request and
-- the answers counted by status: done() prints "statuses: 200=N 429=M ..." after wrk's own
-- summary. Usage: wrk -t1 ... -s statuses.lua URL -- FILE [HEADER_NAME HEADER_VALUE]
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "paths.lua")

local load_paths = init
-- Globals, so that done() can read each thread's through thread:get().
counts = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  load_paths(args)
  if args[2] then
    wrk.headers[args[2]] = args[3]
  end
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local line = "statuses:"
  for status, n in pairs(total) do
    line = line .. " " .. status .. "=" .. n
  end
  print(line)
end
