#!/usr/bin/python3
"""Fills bench/pgbench/create_article.sql with an article the service created
in this run, as CreateArticle passed it: the replay then writes the same row,
slug, revision snapshot and request id, only with a fresh slug and request id
per transaction. The article is the median by body length: the phase's
bodies run from 300 to 800 words, and the cost of a create (text to
compress, search vector, index entries) grows with its length, so an article
picked by id could make the replay cheaper or dearer than the creates it
stands for (the first one was a third shorter than the mean in one run).
Writes the script to run (empty values as '' literals:
pgbench cannot take an empty -D value) and prints the pgbench arguments
`-D p3=...` for the others, NUL-separated.

    create_article_replay.py DSN SLUG_PATTERN TEMPLATE OUT_SCRIPT
"""

import re
import subprocess
import sys

DSN, PATTERN, TEMPLATE, OUT = sys.argv[1:5]
SQL = f"""
SELECT a.title, a.subtitle, a.body, a.body_format::text, a.plain_text, a.custom_excerpt, a.excerpt,
       a.authors::text, a.section, a.tags::text, a.image_url, a.image_alt, a.image_caption,
       a.state::text, a.create_time::text, a.update_time::text, COALESCE(a.publish_time::text, ''),
       COALESCE(a.delete_time::text, ''), a.word_count::text, a.reading_seconds::text,
       a.revision::text, a.body_html, a.body_html_version::text, r.actor, r.changed_fields::text,
       translate(encode(r.snapshot, 'base64'), E'\\n', '')
FROM article.articles a JOIN article.revisions r ON r.article_id = a.id AND r.revision = 1
WHERE a.slug LIKE '{PATTERN}'
ORDER BY length(a.body), a.id
OFFSET (SELECT count(*) / 2 FROM article.articles WHERE slug LIKE '{PATTERN}') LIMIT 1
"""
out = subprocess.run(["psql", DSN, "-v", "ON_ERROR_STOP=1", "-At", "-F", "\x1f", "-R", "\x1e", "-c", SQL],
                     check=True, capture_output=True, text=True).stdout.rstrip("\x1e\n")
values = out.split("\x1f")
if len(values) != 26:
    sys.exit(f"create_article_args: no created article matches {PATTERN!r}")
script = open(TEMPLATE).read()
args = []
for n, v in enumerate(values, start=3):
    if v:
        args += ["-D", f"p{n}={v}"]
    else:
        script = re.sub(rf":p{n}\b", "''", script)
with open(OUT, "w") as f:
    f.write(script)
sys.stdout.write("\0".join(args))
