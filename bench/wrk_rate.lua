-- wrk script: paces every connection to wait `delay` ms (the first script
-- argument, fractions allowed) after each response before its next request,
-- for an offered rate of about connections x 1000 / (delay + latency)
-- requests per second (bench/page.sh). wrk takes whole milliseconds, so
-- the fraction is carried from one request to the next.
local delay_ms = 0
local carried = 0

function init(args)
  delay_ms = tonumber(args[1]) or 0
end

function delay()
  carried = carried + delay_ms
  local whole = math.floor(carried)
  carried = carried - whole
  return whole
end
