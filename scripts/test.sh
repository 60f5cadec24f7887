#!/usr/bin/env bash
# The test command: make sure a broker answers (starting the local
# rabbitmq-server when it is installed and down), then gofmt, go vet, every
# test with the race detector (broker tests included; the fault tests start
# private broker nodes of their own), the scale tests without it, the fuzz
# targets briefly, the hot-path benchmarks, a check of the stored
# histograms by another HdrHistogram implementation, then the broker tests
# against RabbitMQ 4. A missing broker, a missing chromium (the HTML
# report's browser test), a missing prometheus (the exporter's agreement
# test) or a missing Node.js (the histogram check) fails the run instead of
# skipping tests; the scripts install them.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v go >/dev/null 2>&1 || { echo "test.sh: Go is not installed (https://go.dev/dl/)" >&2; exit 1; }
scripts/broker.sh
scripts/browser.sh
scripts/prometheus.sh

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "test.sh: gofmt would change:" >&2; echo "$unformatted" >&2; exit 1
fi
go vet ./...
# staticcheck at a pinned version, and the builds for the other systems
# mqbench supports (CPU and memory readings differ per system).
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
GOOS=darwin go build ./...
GOOS=windows go build ./...

export MQBENCH_REQUIRE_BROKER=1
export MQBENCH_REQUIRE_BROWSER=1
export MQBENCH_REQUIRE_PROMETHEUS=1
go test -race -count=1 -timeout 15m ./...
# The scale tests measure rates and resident memory, which -race distorts:
# each runs without it, in a process of its own.
go test -count=1 -timeout 5m -run '^TestScale1000ProducersRate$' ./internal/driver
go test -count=1 -timeout 5m -run '^TestScale5000Workers$' ./internal/driver
# A billion in-order deliveries through one audit track (about 5 s
# without the race detector, which skips it): its memory stays flat.
go test -count=1 -timeout 5m -run '^TestTrackBillionInOrder$' ./internal/audit
# The fuzz targets, briefly (seeds: the shipped scenarios and testdata/).
go test -run '^$' -fuzz '^FuzzLoad$' -fuzztime 10s ./internal/scenario
go test -run '^$' -fuzz '^FuzzRead$' -fuzztime 5s ./internal/stamp
go test -run '^$' -fuzz '^FuzzRunArgs$' -fuzztime 10s ./cmd/mqbench
go test -run '^$' -fuzz '^FuzzCoalesce$' -fuzztime 10s ./internal/amqpconn
# The hot-path benchmarks, briefly: they report allocations per operation.
go test -run '^$' -bench . -benchmem -benchtime 1s ./internal/stamp ./internal/metrics ./internal/driver
# The stored histograms decoded by an independent HdrHistogram
# implementation (hdr-histogram-js, installed by the script outside the
# checkout) from a short real run: the same count and percentiles.
scripts/hdr-check.sh

# The broker tests again, against RabbitMQ 4 (Debian trixie's 4.0.5 in a
# chroot, built once and cached outside the checkout, run as a second node
# on port 5673 that refuses the deprecated features as 4.3 does), every
# shipped scenario included (TestShippedScenarios, TestScenarioFiles).
# MQBENCH_SECOND_BROKER=1 tells the tests this is the second pass: those
# that start private nodes (from the installed 3.x) or measure mqbench
# itself say so (brokertest.NeedsPrivateNode, MeasuresTheClient) and skip,
# having run above; the race detector ran above too.
if [ "${MQBENCH_SKIP_RABBITMQ4:-}" != 1 ]; then
  scripts/rabbitmq4.sh start
  trap 'scripts/rabbitmq4.sh stop >/dev/null 2>&1 || true' EXIT # stopped even when a test fails
  MQBENCH_URL="$(scripts/rabbitmq4.sh url)" MQBENCH_RABBITMQCTL="scripts/rabbitmq4.sh ctl" MQBENCH_SECOND_BROKER=1 \
    go test -count=1 -timeout 15m ./cmd/mqbench ./internal/driver ./internal/routing ./internal/amqpconn
  scripts/rabbitmq4.sh stop
fi
