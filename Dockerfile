# syntax=docker/dockerfile:1

# Build stage: dependencies first, in their own layer, rebuilt only when a manifest changes.
FROM rust:1.95-slim-bookworm AS builder
WORKDIR /app
COPY Cargo.toml Cargo.lock ./
COPY data-gen/Cargo.toml data-gen/
RUN mkdir -p src/bin data-gen/src benches \
    && echo 'fn main() {}' > src/main.rs \
    && echo 'fn main() {}' > src/bin/relevance.rs \
    && echo 'fn main() {}' > benches/search.rs \
    && touch src/lib.rs data-gen/src/lib.rs \
    && echo 'fn main() {}' > data-gen/src/main.rs \
    && cargo build --release --locked -p product-search --bin product-search \
    && rm -rf src data-gen/src benches
COPY src src
COPY migrations migrations
COPY data-gen/src data-gen/src
COPY benches/search.rs benches/search.rs
# Touch the sources so cargo rebuilds them over the placeholder build above.
RUN touch src/main.rs src/lib.rs data-gen/src/lib.rs \
    && cargo build --release --locked -p product-search --bin product-search

# Final stage: the binary alone on a slim base, as a non-root user.
FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
COPY --from=builder /app/target/release/product-search /usr/local/bin/product-search
USER 10001:10001
ENV LISTEN_ADDR=0.0.0.0:8080 \
    METRICS_LISTEN_ADDR=0.0.0.0:9464 \
    LOG_FORMAT=json
# 8080: the API; 9464: Prometheus metrics (not routed through the load balancer).
EXPOSE 8080 9464
# No curl in the image: the binary probes itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/product-search", "healthcheck"]
# SIGTERM starts a graceful drain (see README, Shutdown).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/product-search"]
