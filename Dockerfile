# syntax=docker/dockerfile:1

# Build stage: dependencies first, in their own layer, rebuilt only when a manifest changes.
# Cargo reads every workspace member's manifest, so each gets one, with placeholder sources.
FROM rust:1.95-slim-bookworm AS builder
WORKDIR /app
COPY Cargo.toml Cargo.lock ./
# The build's flags (a processor feature every x86-64 server has), and the rustc wrapper
# that optimises release builds with the service's execution profile.
COPY .cargo .cargo
COPY scripts/rustc-with-profile.sh scripts/
COPY pgo pgo
COPY allocator/Cargo.toml allocator/
COPY product-model/Cargo.toml product-model/
COPY data-gen/Cargo.toml data-gen/
COPY relevance/Cargo.toml relevance/
COPY localstack/proxy/Cargo.toml localstack/proxy/
RUN for crate in . allocator product-model data-gen relevance localstack/proxy; do \
        mkdir -p "$crate/src" && touch "$crate/src/lib.rs" && echo 'fn main() {}' > "$crate/src/main.rs"; \
    done \
    && mkdir -p relevance/benches && echo 'fn main() {}' > relevance/benches/search.rs \
    && cargo build --release --locked -p product-search --bin product-search \
    && rm -rf src allocator/src product-model/src data-gen/src
COPY src src
COPY migrations migrations
COPY allocator/src allocator/src
COPY product-model/src product-model/src
COPY data-gen/src data-gen/src
# Touch the sources so cargo rebuilds them over the placeholder build above.
RUN touch src/main.rs src/lib.rs allocator/src/lib.rs product-model/src/lib.rs data-gen/src/lib.rs \
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
