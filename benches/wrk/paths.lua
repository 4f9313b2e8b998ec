-- Sends GET requests for the paths listed in a file (one per line), in turn, each wrk
-- thread starting at a different place. Usage: wrk ... -s paths.lua URL -- FILE
local paths = {}
local next_index = 1

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("no paths in " .. args[1])
  end
  next_index = (wrk.thread and tonumber(tostring(wrk.thread):match("%x+$"), 16) or 0) % #paths + 1
end

function request()
  local path = paths[next_index]
  next_index = next_index % #paths + 1
  return wrk.format("GET", path)
end
