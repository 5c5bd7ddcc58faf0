-- Articles, their slugs (current and former), revisions and create
-- idempotency keys. Runs with search_path = article, public.

CREATE TABLE articles (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  slug           text NOT NULL,
  title          text NOT NULL,
  subtitle       text NOT NULL DEFAULT '',
  body           text NOT NULL DEFAULT '',
  body_format    smallint NOT NULL,
  plain_text     text NOT NULL DEFAULT '',
  custom_excerpt text NOT NULL DEFAULT '',
  excerpt        text NOT NULL DEFAULT '',
  authors        text[] NOT NULL DEFAULT '{}',
  section        text NOT NULL DEFAULT '',
  tags           text[] NOT NULL DEFAULT '{}',
  image_url      text NOT NULL DEFAULT '',
  image_alt      text NOT NULL DEFAULT '',
  image_caption  text NOT NULL DEFAULT '',
  -- 1 DRAFT, 2 SCHEDULED, 3 PUBLISHED. A SCHEDULED row whose publish_time
  -- has passed is published: visibility is computed from publish_time at
  -- read time, so no job has to flip the state.
  state          smallint NOT NULL CHECK (state IN (1, 2, 3)),
  create_time    timestamptz NOT NULL,
  update_time    timestamptz NOT NULL,
  publish_time   timestamptz,
  delete_time    timestamptz,
  word_count     integer NOT NULL DEFAULT 0,
  reading_seconds integer NOT NULL DEFAULT 60,
  revision       bigint NOT NULL DEFAULT 1,
  -- Title weighs most, then subtitle and excerpt, then the body. The body is
  -- capped so a 1 MiB article stays under the tsvector size limit.
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, title), 'A') ||
    setweight(to_tsvector('english'::regconfig, subtitle || ' ' || excerpt), 'B') ||
    setweight(to_tsvector('english'::regconfig, left(plain_text, 200000)), 'C')) STORED,
  CHECK ((state = 1) = (publish_time IS NULL))
);

CREATE UNIQUE INDEX articles_slug ON articles (slug);
CREATE INDEX articles_search ON articles USING gin (search);
CREATE INDEX articles_tags ON articles USING gin (tags);
CREATE INDEX articles_authors ON articles USING gin (authors);
CREATE INDEX articles_section ON articles (section, publish_time DESC, id DESC);

-- Keyset orders: (key, id) for each order_by. Drafts have no publish_time
-- and sort as -infinity.
CREATE INDEX articles_publish_order
  ON articles ((COALESCE(publish_time, '-infinity'::timestamptz)), id);
CREATE INDEX articles_update_order ON articles (update_time, id);
CREATE INDEX articles_create_order ON articles (create_time, id);
CREATE INDEX articles_title_order ON articles (title, id);
-- The reader's default list: live articles, newest first.
CREATE INDEX articles_live_order ON articles (publish_time, id)
  WHERE delete_time IS NULL AND state IN (2, 3);

-- Every slug an article has had. Exactly one `current` row per article; the
-- primary key keeps a slug from ever pointing at two articles, so old links
-- never change target.
CREATE TABLE slugs (
  slug        text PRIMARY KEY,
  article_id  bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  current     boolean NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX slugs_article ON slugs (article_id);

CREATE TABLE revisions (
  article_id     bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  revision       bigint NOT NULL,
  actor          text NOT NULL DEFAULT '',
  create_time    timestamptz NOT NULL,
  action         text NOT NULL,
  changed_fields text[] NOT NULL DEFAULT '{}',
  -- The serialized news.article.v1.Article after the change.
  snapshot       bytea NOT NULL,
  PRIMARY KEY (article_id, revision)
);

-- CreateArticle idempotency keys (AIP-155), kept at least 24 hours; rows
-- older than 48 hours are removed by later creates.
CREATE TABLE create_requests (
  request_id  text PRIMARY KEY,
  article_id  bigint REFERENCES articles (id) ON DELETE CASCADE,
  create_time timestamptz NOT NULL
);
CREATE INDEX create_requests_time ON create_requests (create_time);
