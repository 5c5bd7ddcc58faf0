"""Loads demo articles and views into a running newsgrid.

    demo_data.py --article=127.0.0.1:50051 --trending=127.0.0.1:50052 \
        --images=http://localhost:8080/static/demo/

Creates and publishes a handful of articles (idempotently: request ids are
the slugs, so running it twice changes nothing), then produces reader views:
older ones straight into the trending service (spread over the last hours),
recent ones as reader reads through the article service, the way a site
would. Waits until both services are SERVING first.
"""

import argparse
import random
import sys
import time

import grpc
from google.protobuf import timestamp_pb2

import harness  # noqa: F401  (makes the health stubs importable)
from grpc.health.v1 import health_pb2, health_pb2_grpc
from news.article.v1 import article_service_pb2 as apb
from news.article.v1 import article_service_pb2_grpc as agrpc
from news.trending.v1 import trending_service_pb2 as tpb
from news.trending.v1 import trending_service_pb2_grpc as tgrpc

ARTICLES = [
    dict(slug="night-trains-return-to-europe", title="Night trains return to Europe",
         subtitle="Sleeper routes are back, and fuller than expected",
         section="travel", tags=["rail", "europe", "climate"], authors=["Mara Lindqvist"],
         body="Ten years after most sleeper services were cut, operators are adding routes again.\n\n"
              "Bookings on the new lines exceeded forecasts in their first season, helped by travellers "
              "who want to avoid short flights. Operators say the harder problem is rolling stock: "
              "couchette cars take years to build, and the few factories that make them are busy.\n\n"
              "Passengers interviewed on the first departure cited comfort and arriving in a city centre "
              "as reasons, more often than price."),
    dict(slug="city-council-approves-bike-lanes", title="City council approves 40 km of protected bike lanes",
         subtitle="The plan passed 31 to 12 after a six-hour debate",
         section="local", tags=["cycling", "transport", "council"], authors=["Tomas Berg"],
         body="The council voted on Tuesday to build forty kilometres of protected cycle lanes over the "
              "next three years. Supporters pointed to falling injury numbers on the streets that already "
              "have them; opponents worried about delivery access and parking.\n\n"
              "Construction of the first section starts in spring."),
    dict(slug="quantum-sensor-finds-water", title="Quantum sensor maps groundwater from the surface",
         subtitle="A field trial shows aquifers without drilling",
         section="science", tags=["physics", "water", "sensors"], authors=["Ines Okafor", "Li Wei"],
         body="Researchers used an atom-interferometer gravimeter to map an aquifer forty metres below a "
              "farm, matching later test bores within a few metres. The instrument is still the size of a "
              "van, but the team expects a portable version within two years."),
    dict(slug="harbour-festival-draws-record-crowd", title="Harbour festival draws a record crowd",
         subtitle="Boats, music and a very long queue for fish soup",
         section="local", tags=["festival", "harbour"], authors=["Tomas Berg"],
         body="An estimated 80,000 people visited the harbour festival over the weekend, the most since it "
              "began. Organisers added a second stage this year and extended ferry services until midnight."),
    dict(slug="chip-exports-slow-in-third-quarter", title="Chip exports slow in the third quarter",
         subtitle="Demand for consumer devices cools while data-centre orders hold",
         section="business", tags=["semiconductors", "trade", "economy"], authors=["Priya Raman"],
         body="Exports of semiconductors fell for the first time in six quarters, led by chips for phones "
              "and laptops. Orders for data-centre processors held steady, and manufacturers say they "
              "expect a recovery next year."),
    dict(slug="library-opens-repair-cafe", title="Library opens a repair café",
         subtitle="Bring a broken toaster, leave with a working one",
         section="local", tags=["community", "repair"], authors=["Mara Lindqvist"],
         body="Volunteers with soldering irons and sewing machines now fill the library's basement every "
              "second Saturday. In its first month the café fixed 140 items, most of them lamps, "
              "headphones and jackets."),
]

# Feature images (reader-web serves these illustrations under
# /static/demo/): file, alt text, caption.
IMAGES = {
    "night-trains-return-to-europe": ("night-train.svg", "A sleeper train crossing the hills at night",
                                      "The new sleeper service leaves at 21:40."),
    "city-council-approves-bike-lanes": ("city-bikes.svg", "A cyclist on a green protected lane",
                                         "The first section opens next spring."),
    "harbour-festival-draws-record-crowd": ("harbour.svg", "Sailing boats in the harbour at sunset",
                                            "Boats gathered for the evening parade."),
}

# Relative popularity of the demo articles (views per round).
WEIGHTS = [9, 6, 4, 3, 2, 1]


def wait_serving(channel, name, timeout=60):
    stub = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == \
                    health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.RpcError:
            pass
        time.sleep(0.2)
    sys.exit(f"{name} did not become SERVING within {timeout}s")


def create_articles(articles, image_base=""):
    """Creates and publishes the demo articles (with feature images under
    `image_base` when given); returns their names."""
    names = []
    for a in ARTICLES:
        image = None
        if image_base and a["slug"] in IMAGES:
            file, alt, caption = IMAGES[a["slug"]]
            image = apb.Image(url=image_base + file, alt=alt, caption=caption)
        created = articles.CreateArticle(apb.CreateArticleRequest(
            request_id="demo-" + a["slug"], actor="demo-loader",
            article=apb.Article(slug=a["slug"], title=a["title"], subtitle=a["subtitle"], body=a["body"],
                                body_format=apb.MARKDOWN, section=a["section"], tags=a["tags"],
                                authors=a["authors"], feature_image=image)), timeout=10)
        names.append(created.name)
        if created.state != apb.Article.PUBLISHED:
            articles.PublishArticle(apb.PublishArticleRequest(name=created.name, actor="demo-loader"),
                                    timeout=10)
    return names


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--article", default="127.0.0.1:50051")
    parser.add_argument("--trending", default="127.0.0.1:50052")
    parser.add_argument("--images", default="",
                        help="URL prefix of the demo images (reader-web's /static/demo/); empty: none")
    args = parser.parse_args()
    article_channel = grpc.insecure_channel(args.article)
    trending_channel = grpc.insecure_channel(args.trending)
    wait_serving(article_channel, "article-service")
    wait_serving(trending_channel, "trending-service")
    articles = agrpc.ArticleServiceStub(article_channel)
    trending = tgrpc.TrendingServiceStub(trending_channel)

    names = create_articles(articles, args.images)

    # Older views straight into trending, spread over the last six hours.
    rng = random.Random(7)
    now = time.time()
    events = []
    for i, name in enumerate(names):
        a = ARTICLES[i]
        for k in range(WEIGHTS[i] * 20):
            ts = timestamp_pb2.Timestamp()
            ts.FromSeconds(int(now - rng.uniform(120, 6 * 3600)))
            events.append(tpb.ViewEvent(
                article=name, view_time=ts, visitor_id=f"demo-{i}-{k}",
                metadata=tpb.ArticleMetadata(section=a["section"], tags=a["tags"], authors=a["authors"])))
    result = trending.RecordViews(iter([tpb.RecordViewsRequest(events=events[j:j + 500])
                                        for j in range(0, len(events), 500)]), timeout=30)

    # Recent views as reader reads through the article service.
    reads = 0
    for i, name in enumerate(names):
        for k in range(WEIGHTS[i] * 3):
            articles.GetArticle(apb.GetArticleRequest(name=name, visitor_id=f"reader-{i}-{k}"), timeout=10)
            reads += 1
    print(f"demo data: {len(names)} articles published, {result.accepted} views recorded, "
          f"{reads} reader reads", file=sys.stderr)


if __name__ == "__main__":
    main()
