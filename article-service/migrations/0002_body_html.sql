-- The body rendered to safe HTML (Article.body_html), computed on write.
-- body_html_version is the rendering rules' version it was made with
-- (kBodyHtmlVersion in body_html.h): rows from before this migration, or
-- rendered under older rules, have a lower one and are rendered again by
-- the service (on read, and by a backfill at start).
ALTER TABLE articles
  ADD COLUMN body_html text NOT NULL DEFAULT '',
  ADD COLUMN body_html_version integer NOT NULL DEFAULT 0;
