-- pgbench replay of one CreateArticle: exactly the statement the service
-- runs (ArticleStore::CreateStatement(), checked by article_service_pg_test),
-- its parameters $N as :pN. A fresh request id and slug per transaction;
-- every other value (-D p3=... to p28) comes from an article the service
-- created in the same benchmark run (bench/pgbench/create_article_args.sh).
\set p1 random(1, 9000000000000000000)
\set p2 random(1, 9000000000000000000)
WITH art AS (INSERT INTO articles (slug, title, subtitle, body, body_format, plain_text, custom_excerpt, excerpt, authors, section, tags, image_url, image_alt, image_caption, state, create_time, update_time, publish_time, delete_time, word_count, reading_seconds, revision, body_html, body_html_version) VALUES (:p2, :p3, :p4, :p5, :p6::smallint, :p7, :p8, :p9, :p10::text[], :p11, :p12::text[], :p13, :p14, :p15, :p16::smallint, :p17::timestamptz, :p18::timestamptz, NULLIF(:p19, '')::timestamptz, NULLIF(:p20, '')::timestamptz, :p21::int, :p22::int, :p23::bigint, :p24, :p25::int) RETURNING id), slug AS (INSERT INTO slugs (slug, article_id, current) SELECT :p2, id, true FROM art), rev AS (INSERT INTO revisions (article_id, revision, actor, create_time, action, changed_fields, snapshot) SELECT id, :p23::bigint, :p26, :p18::timestamptz, 'create', :p27::text[], decode(:p28, 'base64') FROM art), req AS (INSERT INTO create_requests (request_id, article_id, create_time) SELECT :p1, id, :p17::timestamptz FROM art WHERE :p1 <> '') SELECT id FROM art;
