-- wrk script: paces every connection to one request per `delay` ms (the
-- first script argument) after each response, for a fixed offered rate of
-- connections x 1000 / delay requests per second (bench/page.sh).
local delay_ms = 0

function init(args)
  delay_ms = math.floor(tonumber(args[1]) or 0)
end

function delay()
  return delay_ms
end
