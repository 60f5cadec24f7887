# syntax=docker/dockerfile:1
# mqbench's container image, for running shards on Kubernetes
# (deploy/kubernetes, scripts/k8s-run.sh) or anywhere else:
#
#   docker build -t REGISTRY/mqbench:TAG .
#   docker push REGISTRY/mqbench:TAG
#   docker run --rm -e MQBENCH_URL=amqp://... REGISTRY/mqbench:TAG run --duration 30s
#
# The runtime is Alpine rather than distroless because the Kubernetes Job
# wraps /mqbench in a few lines of /bin/sh (signal forwarding, and printing
# the result file to the log after the run); the binary itself is static.

FROM golang:1.26 AS build
WORKDIR /src
COPY . .
# Only the modules the binary needs are fetched (not the test-only ones that
# go mod download would add); the caches speed up rebuilds.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /mqbench ./cmd/mqbench

FROM alpine:3.22
RUN addgroup -S -g 10001 mqbench && adduser -S -D -H -u 10001 -G mqbench -s /sbin/nologin mqbench
COPY --from=build /mqbench /mqbench
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
WORKDIR /tmp
EXPOSE 9419
ENTRYPOINT ["/mqbench"]
