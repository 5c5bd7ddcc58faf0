-- One view event counted the way a Redis deployment would: the Redis
-- baseline the benchmark runs beside ZINCRBY (bench/run.sh, EVALSHA
-- pipelined through redis-benchmark).
--
--   EVALSHA <sha> 0 <article draw> <visitor draw> <articles> <dedup seconds> <minute>
--
-- redis-benchmark draws every __rand_int__ independently from one range (the
-- visitors), so the article is the first draw modulo the article count. The
-- keys are built here from those draws rather than passed as KEYS, which a
-- single Redis node accepts.
local article = tonumber(ARGV[1]) % tonumber(ARGV[3])
local visitor = tonumber(ARGV[2])
-- Dedup: a visitor's repeat view of an article within the window counts once.
if not redis.call('SET', 'seen:' .. visitor .. ':' .. article, 1, 'NX', 'EX', ARGV[4]) then
  return 0
end
-- Unique visitors of the article in this minute, then the minute's ranking.
redis.call('PFADD', 'uniques:' .. article .. ':' .. ARGV[5], visitor)
redis.call('ZINCRBY', 'views:' .. ARGV[5], 1, 'articles/' .. article)
return 1
