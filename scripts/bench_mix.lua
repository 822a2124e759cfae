-- wrk script of `make bench`'s mix (scripts/bench_mix.py writes the schedule).
-- Each thread replays the schedule from its own offset, one request after another, so the
-- 16 connections spread over many users, persons and meetings; bounded by wrk's -d.
local schedule = os.getenv("BENCH_MIX_FILE")
local requests = {}
local counter = 0
local index = 1

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  return fields
end

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter)
end

function init(args)
  for line in io.lines(schedule) do
    local f = split(line)
    local method, path, cookie, body, header = f[2], f[3], f[4], f[5], f[6]
    local headers = { ["Cookie"] = cookie }
    if method == "POST" then
      headers["Content-Type"] = "application/x-www-form-urlencoded"
    else
      body = nil
    end
    if header ~= nil and header ~= "" then
      local name, value = header:match("^([^:]+): (.*)$")
      headers[name] = value
    end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  -- Threads start far apart in the schedule.
  index = ((offset or 1) - 1) * math.floor(#requests / 2) + 1
end

function request()
  local r = requests[index]
  index = index + 1
  if index > #requests then
    index = 1
  end
  return r
end
