-- Cross-replica cache coherence, tag pages as index range scans, cheaper
-- storage of large values. Runs with search_path = article, public.

-- Every committed change of an article row tells every replica's read cache
-- (LISTEN article_changed) which article changed. The trigger runs inside
-- the writing transaction, so PostgreSQL delivers the notification only if
-- that transaction commits. The payload is "<id>,<microseconds since the
-- epoch when the row was written>", from which a replica measures its
-- invalidation lag. Inserts need none: a new id is never cached.
CREATE FUNCTION notify_article_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('article_changed',
                    concat(OLD.id, ',', (extract(epoch FROM clock_timestamp()) * 1000000)::bigint));
  RETURN NULL;
END $$;
CREATE TRIGGER articles_notify_changed AFTER UPDATE OR DELETE ON articles
  FOR EACH ROW EXECUTE FUNCTION notify_article_changed();

-- One row per (tag, article) with the time from which readers see the
-- article (its publish time; NULL while it is a draft or deleted), so a tag
-- page newest first is one backward range scan of article_tags_page, the
-- page's ids read from the index alone, whatever the archive's size (a GIN
-- index on the array can only find every article with the tag, to be
-- sorted). Kept by triggers, so no writer can forget it.
CREATE TABLE article_tags (
  tag          text NOT NULL,
  article_id   bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  live_from    timestamptz,
  PRIMARY KEY (article_id, tag)
);
CREATE INDEX article_tags_page ON article_tags (tag, live_from, article_id);

-- The function's search_path is the schema's (FROM CURRENT), so the trigger
-- finds article_tags whatever the writing session's search_path.
CREATE FUNCTION sync_article_tags() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE
  live_from timestamptz :=
    CASE WHEN NEW.delete_time IS NULL AND NEW.state IN (2, 3) THEN NEW.publish_time END;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.tags IS NOT DISTINCT FROM OLD.tags AND
       live_from IS NOT DISTINCT FROM
         (CASE WHEN OLD.delete_time IS NULL AND OLD.state IN (2, 3) THEN OLD.publish_time END) THEN
      RETURN NULL;
    END IF;
    DELETE FROM article_tags WHERE article_id = NEW.id;
  END IF;
  INSERT INTO article_tags (tag, article_id, live_from)
    SELECT DISTINCT t, NEW.id, live_from FROM unnest(NEW.tags) AS t;
  RETURN NULL;
END $$;
CREATE TRIGGER articles_sync_tags
  AFTER INSERT OR UPDATE OF tags, publish_time, state, delete_time ON articles
  FOR EACH ROW EXECUTE FUNCTION sync_article_tags();
INSERT INTO article_tags (tag, article_id, live_from)
  SELECT DISTINCT t, a.id,
         CASE WHEN a.delete_time IS NULL AND a.state IN (2, 3) THEN a.publish_time END
  FROM articles a, unnest(a.tags) AS t;

-- Section fronts for readers: live articles of a section, newest first.
CREATE INDEX articles_section_live ON articles (section, publish_time, id)
  WHERE delete_time IS NULL AND state IN (2, 3);

-- The search vector stays in the row (compressed) instead of going to the
-- TOAST table: ranking a search reads the vectors of a few hundred
-- candidates, and fetching them from TOAST (an index lookup and chunk reads
-- each) was a quarter of PostgreSQL's time per search.
ALTER TABLE articles ALTER COLUMN search SET STORAGE MAIN;

-- lz4 instead of pglz for the values PostgreSQL compresses (bodies, their
-- plain text, the search vector, revision snapshots): pglz_compress was the
-- largest single item of PostgreSQL's CPU profile while creating articles,
-- and lz4 compresses several times faster. Applies to values written from
-- now on; a server built without lz4 keeps pglz.
DO $$
BEGIN
  ALTER TABLE articles ALTER COLUMN body SET COMPRESSION lz4,
                       ALTER COLUMN plain_text SET COMPRESSION lz4,
                       ALTER COLUMN search SET COMPRESSION lz4;
  ALTER TABLE revisions ALTER COLUMN snapshot SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not available; large values stay pglz-compressed';
END $$;
