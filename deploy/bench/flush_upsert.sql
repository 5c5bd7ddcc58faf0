-- One flush of a trending replica: a batch of per-article view counts for
-- the current minute, merged into PostgreSQL with one multi-row upsert
-- (rows in article order, so concurrent replicas lock in the same order).
\set batch 500
\set first random(1, 100000)
INSERT INTO view_counts (article_id, bucket, views)
SELECT (:first + g * 7919) % 100000, date_trunc('minute', now()), 1 + g % 3
FROM generate_series(1, :batch) AS g
ORDER BY 1
ON CONFLICT (article_id, bucket) DO UPDATE SET views = view_counts.views + EXCLUDED.views;
