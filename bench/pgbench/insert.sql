\set n random(1, 1000000000)
INSERT INTO bench_articles (title, body) VALUES ('Title ' || :n, repeat('lorem ipsum dolor ', 200));
