# One image for every Atlantic component: `atlantic <subcommand>`.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
# A .dockerignore listing target/ and .git/ keeps the build context small.
COPY . .
# Cache mounts keep the registry and build artefacts between builds; the
# binary is copied out because the target/ mount is gone after this step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release -p atlantic \
    && cp target/release/atlantic /usr/local/bin/atlantic

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /usr/local/bin/atlantic /usr/local/bin/atlantic
USER nobody
CMD ["atlantic", "serve"]
