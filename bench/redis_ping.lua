-- One engagement ping counted the way a Redis deployment would: the Redis
-- baseline of ping ingest (bench/run.sh, EVALSHA pipelined through
-- redis-benchmark), beside bench/redis_view.lua for views.
--
--   EVALSHA <sha> 0 <visitor draw> <seconds draw> <articles> <page views> <minute>
--
-- Page views are registered first (bench/run.sh: `pv:<id>` holding the
-- article, for the 30-minute dedup window); page view i is of article
-- i modulo the article count. redis-benchmark only draws at random, so the
-- script takes its page view from a cursor (`bench:ping_cursor`, one INCR,
-- the benchmark's own bookkeeping): with a page view for every request,
-- every ping names a distinct registered page view, as in the load
-- generator, and none is too frequent. Rejections are counted
-- (`bench:ping_rejected`) so the run shows there were none.
local n = redis.call('INCR', 'bench:ping_cursor')
local pv = n % tonumber(ARGV[4])
local article = pv % tonumber(ARGV[3])
-- The ping must name a page view registered by a VIEW of its article.
if redis.call('GET', 'pv:' .. pv) ~= tostring(article) then
  redis.call('INCR', 'bench:ping_rejected')
  return 0
end
-- At most one ping per page view per 10 s.
if not redis.call('SET', 'ping:' .. pv, 1, 'NX', 'EX', 10) then
  redis.call('INCR', 'bench:ping_rejected')
  return 0
end
-- A ping keeps its page view alive for the dedup window.
redis.call('EXPIRE', 'pv:' .. pv, 1800)
-- Engaged seconds (0-24 drawn; over 20 counts as 20): the article's minute
-- bucket, then the minute's ranking by engaged time.
local seconds = math.min(tonumber(ARGV[2]) % 25, 20)
redis.call('INCRBY', 'engaged:' .. article .. ':' .. ARGV[5], seconds)
redis.call('ZINCRBY', 'engaged:' .. ARGV[5], seconds, 'articles/' .. article)
-- Readers on the page now: each reader's last ping time per article
-- (ZCOUNT over the last 60 s reads it; old members are trimmed apart).
redis.call('ZADD', 'readers:' .. article, redis.call('TIME')[1], 'v' .. ARGV[1])
return 1
