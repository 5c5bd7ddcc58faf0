-- The pgbench insert baseline's table: an article-sized row (title, ~3.5 KB
-- body, timestamps) with a primary key, like one CreateArticle.
CREATE TABLE bench_articles (
  id bigserial PRIMARY KEY,
  title text NOT NULL,
  body text NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now()
);
