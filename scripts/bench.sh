#!/usr/bin/env bash
# `make bench`: builds release binaries, starts `atlantic serve` on a fresh
# database with a NATS server of its own, and drives it with atlantic-bench.
# Prints a Markdown table; docs/PERFORMANCE.md records the figures.
set -euo pipefail
cd "$(dirname "$0")/.."

PG=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
DB=atlantic_bench
PORT=${BENCH_PORT:-18080}
NATS_PORT=${BENCH_NATS_PORT:-14222}
export DATABASE_URL="$PG/$DB"

cargo build --release -p atlantic -p atlantic-bench
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
./target/release/atlantic migrate

nats_dir=$(mktemp -d)
nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$nats_dir" >/dev/null 2>&1 &
nats_pid=$!
RUST_LOG=warn NATS_URL="nats://127.0.0.1:$NATS_PORT" REDIS_KEY_PREFIX="bench:" \
  COMMAND_API_ADDR="127.0.0.1:$PORT" LOGIN_LIMIT_PER_ADDRESS=100000 \
  ./target/release/atlantic "${BENCH_COMPONENTS:-serve}" &
app_pid=$!
cleanup() {
  kill "$app_pid" "$nats_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$nats_dir"
  redis-cli --scan --pattern 'bench:*' | xargs -r redis-cli del >/dev/null 2>&1 || true
}
trap cleanup EXIT

for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
  sleep 0.1
done

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(psql "$PG/postgres" -Atc 'SHOW server_version')"
./target/release/atlantic-bench --api "http://127.0.0.1:$PORT" "$@"
