-- Loads archive articles :first to :last straight into the article schema,
-- at insert speed (no RPC, no idempotency key, no revision), published 1 to
-- about 600 days before now so the archive lies behind the articles the
-- benchmark created through the service. Like the load generator's articles
-- (bench/loadgen/article_workloads.cc: the same words, sections and tag
-- choice; 5-10 paragraphs of 60-79 words), in plain text so plain_text is
-- the body; the search vector, tag index rows and indexes are maintained as
-- for any insert.
--
--   psql "$DSN" -v first=1 -v last=45000 -f bench/load_archive.sql
\set ON_ERROR_STOP on
SET search_path = article, public;
WITH v AS (
  SELECT ARRAY['election', 'minister', 'parliament', 'budget', 'inflation', 'market', 'energy',
               'climate', 'storm', 'flood', 'harvest', 'railway', 'airport', 'strike', 'union',
               'court', 'verdict', 'police', 'border', 'summit', 'treaty', 'ceasefire',
               'refugees', 'hospital', 'vaccine', 'research', 'university', 'students',
               'teachers', 'museum', 'festival', 'concert', 'film', 'novel', 'football', 'league',
               'final', 'record', 'champion', 'coach', 'startup', 'bank', 'shares', 'profits',
               'exports', 'tariffs', 'housing', 'rents', 'mayor', 'council', 'city', 'village',
               'river', 'coast', 'island', 'mountain', 'forest', 'wildlife', 'ocean', 'satellite',
               'rocket', 'telescope', 'battery', 'software', 'privacy', 'network', 'outage',
               'drought', 'wildfire', 'heatwave', 'protest', 'reform', 'pension', 'taxes', 'wages',
               'jobs', 'factory', 'port', 'shipping', 'fuel', 'prices', 'voters', 'campaign',
               'debate', 'senate', 'governor', 'report', 'inquiry', 'scandal', 'investigation',
               'witness', 'trial', 'appeal', 'ruling'] AS w,
         ARRAY['world', 'politics', 'business', 'technology', 'science', 'sport', 'culture',
               'climate'] AS s
),
ins AS (
INSERT INTO articles (slug, title, subtitle, body, body_format, plain_text, excerpt, authors,
                      section, tags, state, create_time, update_time, publish_time, word_count,
                      reading_seconds, revision)
SELECT 'archive-' || i, upper(left(h.title, 1)) || substr(h.title, 2), h.subtitle, b.body, 3,
       b.body, left(b.body, 299) || '…', ARRAY['Reporter ' || (i % 40)],
       v.s[1 + i % cardinality(v.s)],
       ARRAY(SELECT DISTINCT v.w[1 + ((i * k * 7919) % cardinality(v.w))] FROM generate_series(1, 3) k),
       3, t.t, t.t, t.t, b.words, ceil(b.words / 265.0) * 60, 1
FROM v, generate_series(:first, :last) AS i,
LATERAL (SELECT now() - interval '1 day' - i * interval '9 minutes' AS t) t,
-- (Each word picks with `g`, the inner row, so the aggregate is the inner
-- query's and runs per article.)
LATERAL (SELECT (SELECT string_agg(v.w[1 + floor(random() * cardinality(v.w) + 0 * g)::int], ' ')
                 FROM generate_series(1, 6 + i % 5) g) AS title,
                (SELECT string_agg(v.w[1 + floor(random() * cardinality(v.w) + 0 * g)::int], ' ')
                 FROM generate_series(1, 14 + 0 * i) g) AS subtitle) h,
LATERAL (SELECT string_agg(p.text, E'\n\n' ORDER BY p.n) AS body, sum(p.words)::int AS words
         FROM (SELECT n, 60 + (i + n) % 20 AS words,
                      (SELECT string_agg(v.w[1 + floor(random() * cardinality(v.w) + 0 * g)::int], ' ')
                       FROM generate_series(1, 60 + (i + n) % 20) g) || '.' AS text
               FROM generate_series(1, 5 + i % 6) AS n) p) b
RETURNING id, slug)
INSERT INTO slugs (slug, article_id, current) SELECT slug, id, true FROM ins;
