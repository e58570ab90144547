# Gatehouse's image: built with `cargo build --release --locked`, run as an unprivileged
# numeric user on a read-only root file system. CI does not build it (no container daemon
# there); tests/api/read_only.rs runs the same binary as an unprivileged user from a read-only
# directory instead. See README, "Operate it".
#
#   docker build -t gatehouse .
#   docker run --read-only -p 5000:5000 -e JWT_SECRET=… -e DATABASE_URL=postgres://… gatehouse

# --- build ---------------------------------------------------------------------------------
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY bench ./bench
COPY assets ./assets
RUN cargo build --release --locked --bin gatehouse \
    && install -m 0555 target/release/gatehouse /gatehouse

# --- run -----------------------------------------------------------------------------------
# glibc and libgcc only (no shell, no package manager): the binary needs nothing else, as it
# speaks to its databases without TLS libraries of the system and reads no CA bundle.
FROM gcr.io/distroless/cc-debian12
COPY --from=build /gatehouse /usr/local/bin/gatehouse
# Numeric, so that Kubernetes' runAsNonRoot can check it without a passwd entry.
USER 10001:10001
ENV HOST=0.0.0.0 \
    PORT=5000
EXPOSE 5000
# Asks /ready on 127.0.0.1:$PORT; exits 1 (unhealthy) when the answer is not 200.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["gatehouse", "healthcheck"]
ENTRYPOINT ["gatehouse"]
CMD ["serve"]
