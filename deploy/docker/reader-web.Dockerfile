# reader-web container image (the reader pages). Build from the repository root:
#   docker build -f deploy/docker/reader-web.Dockerfile -t newsgrid/reader-web:0.1.0 .
# The runtime stage holds the binary (templates, styles and scripts are
# compiled into it) and the shared libraries it links, nothing else;
# tests/deploy/image_test.py checks the package list against `ldd` of the
# built binary. Kubernetes probes check /healthz and /readyz, so no HEALTHCHECK.

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev grpc-proto \
      golang-github-gogo-googleapis-dev libabsl-dev libpqxx-dev prometheus-cpp-dev \
      libgtest-dev libgmock-dev nlohmann-json3-dev libconcurrentqueue-dev libcmark-dev libgumbo-dev libicu-dev libcpp-httplib-dev libmstch-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Every service, in a build stage written the same in every service's
# Dockerfile: building one image leaves this stage in the build cache and the
# other images' builds reuse it instead of compiling again.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build --target article-service trending-service reader-web -j"$(nproc)" \
 && strip /build/article-service/article-service /build/trending-service/trending-service \
      /build/reader-web/reader-web

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libabsl20220623 libgrpc++1.51 libgrpc29 libprotobuf32 \
      libpqxx-6.4 libpq5 libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 \
      libcpp-httplib0.11 libssl3 zlib1g libbrotli1 libstdc++6 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 newsgrid \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin newsgrid
COPY --from=build /build/reader-web/reader-web /usr/local/bin/reader-web
USER 10001:10001
# HTTP pages, Prometheus metrics.
EXPOSE 8080 9093
ENTRYPOINT ["/usr/local/bin/reader-web"]
