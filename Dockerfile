# Ringback's container image: a static binary on distroless, as a non-root
# user. Build with
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) -t ringback .
#
# The binary is built by deploy/build.sh, which CI runs too.

FROM golang:1.27.3-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG COMMIT=unknown
ARG BUILD_TIME=unknown
RUN VERSION=$VERSION COMMIT=$COMMIT BUILD_TIME=$BUILD_TIME deploy/build.sh /out/ringback \
 && mkdir -p /out/state/spool

# distroless/static: CA certificates and /etc/passwd, no shell, no libc.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ringback /usr/local/bin/ringback
# The example config, so a first `docker run` starts;
# mount your own ringback.yaml over /etc/ringback/ringback.yaml.
COPY ringback.example.yaml /etc/ringback/ringback.yaml
ENV RINGBACK_CONFIG=/etc/ringback/ringback.yaml \
    RINGBACK_ADDR=:8080 \
    RINGBACK_SPOOL_DIR=/var/lib/ringback/spool
# The working directory holds the SQLite file (without DATABASE_URL) and
# the webhook spool (with PostgreSQL): writable by the user Ringback runs as.
COPY --from=build --chown=65532:65532 /out/state /var/lib/ringback
WORKDIR /var/lib/ringback
VOLUME /var/lib/ringback
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["ringback", "probe", "/readyz"]
ENTRYPOINT ["ringback"]
CMD ["serve"]
