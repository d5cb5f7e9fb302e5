#!/usr/bin/env bash
# `make bench`: builds release binaries and measures, on a fresh database with a
# NATS server of its own:
#   1. commands: `atlantic command-api` + `atlantic relay`, driven by
#      atlantic-bench at several client counts, against pgbench's one-row insert;
#      then the same adjustments on 32 products just listed and on 32 with
#      10,000 events each, in one store, alternately;
#   2. saga: `atlantic serve` (API, relay and order saga), orders end to end;
#   3. read: `atlantic serve` on the seeded catalogue: search, product detail,
#      update lag into each read model, and `atlantic replay` throughput beside
#      `atlantic serve` and alone
#      (order views and analytics on the saga phase's orders too);
#   4. scale: the read phase again with 1,000,000 events in the store and
#      50,000 products (copies of the seeded catalogue, and 9,499 events on
#      each of the 100 products the commands run on, snapshot included), and
#      `atlantic replay` at that size; the read phases measure the commands
#      too (under `atlantic serve`, last), so the two compare;
#   5. the same read phase with search on a Meilisearch of its own (MEILI_BIN,
#      else ../shared/tools/meilisearch; skipped where there is none), and the
#      Meilisearch replay of the seeded catalogue.
# The read phases report the resident memory of `atlantic serve` at rest and
# its peak under their load. Prints Markdown; docs/PERFORMANCE.md records the
# figures.
# BENCH_ONLY=commands|saga|read|scale|meilisearch runs that phase alone; BENCH_RELAY=off
# runs the commands phase without the relay (what publication costs the
# command path); BENCH_SAGA_COMPONENTS (default `serve`) names the components
# the saga phase starts, e.g. "command-api relay saga notify".
set -euo pipefail
cd "$(dirname "$0")/.."

PG=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
DB=atlantic_bench
PORT=${BENCH_PORT:-18080}
NATS_PORT=${BENCH_NATS_PORT:-14222}
export DATABASE_URL="$PG/$DB"
export NATS_URL="nats://127.0.0.1:$NATS_PORT"
export REDIS_KEY_PREFIX="bench:"
export COMMAND_API_ADDR="127.0.0.1:$PORT"
QUERY_PORT=${BENCH_QUERY_PORT:-18081}
export QUERY_API_ADDR="127.0.0.1:$QUERY_PORT"
export CLICKHOUSE_DATABASE=atlantic_bench
CATALOG=${BENCH_CATALOG:-../shared/catalog}
export LOGIN_LIMIT_PER_ADDRESS=100000
export REGISTER_LIMIT_PER_ADDRESS=100000
export CLICK_LIMIT_PER_ADDRESS=100000000
export RUST_LOG=${RUST_LOG:-warn}

cargo build --release -p atlantic -p atlantic-bench

nats_dir=""
nats_pid=""
meili_dir=""
meili_pid=""
pids=()
# Each phase starts from an empty database and an empty NATS server, so the
# second does not inherit the first one's backlog.
fresh_world() {
  [ -z "$nats_pid" ] || { kill "$nats_pid"; wait "$nats_pid" 2>/dev/null || true; rm -rf "$nats_dir"; }
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null
  curl -sf http://127.0.0.1:8123/ --data-binary "DROP DATABASE IF EXISTS $CLICKHOUSE_DATABASE" >/dev/null
  # The seeded products' ids are the catalogue's: an earlier phase's cached
  # documents would be newer than this phase's.
  redis-cli --scan --pattern "$REDIS_KEY_PREFIX*" | xargs -r redis-cli del >/dev/null
  ./target/release/atlantic migrate
  nats_dir=$(mktemp -d)
  nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$nats_dir" >/dev/null 2>&1 &
  nats_pid=$!
}
stop_components() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_components
  [ -z "$nats_pid" ] || kill "$nats_pid" 2>/dev/null || true
  [ -z "$meili_pid" ] || kill "$meili_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -z "$nats_dir" ] || rm -rf "$nats_dir"
  [ -z "$meili_dir" ] || rm -rf "$meili_dir"
  redis-cli --scan --pattern 'bench:*' | xargs -r redis-cli del >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Whether the phase named $1 runs.
wants() { [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = "$1" ]; }
# The resident memory of process $1, in MiB.
rss_mib() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
# Writes the peak resident memory of process $1 to file $2 every 200 ms.
sample_peak_rss() {
  local peak=0 now
  while now=$(rss_mib "$1" 2>/dev/null) && [ -n "$now" ]; do
    [ "$now" -le "$peak" ] || { peak=$now; echo "$peak" >"$2"; }
    sleep 0.2
  done
}

start() {
  for component in "$@"; do
    ./target/release/atlantic "$component" &
    pids+=($!)
  done
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && return
    sleep 0.1
  done
  echo "the command API did not start" >&2
  exit 1
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, PostgreSQL $(psql "$PG/postgres" -Atc 'SHOW server_version')"
if wants commands; then
  fresh_world
  if [ "${BENCH_RELAY:-on}" = off ]; then start command-api; else start command-api relay; fi
  ./target/release/atlantic-bench --api "http://127.0.0.1:$PORT" --phase commands "$@"
  stop_components
  echo
fi
if wants saga; then
  fresh_world
  # shellcheck disable=SC2086 # a list of component names
  start ${BENCH_SAGA_COMPONENTS:-serve}
  ./target/release/atlantic-bench --api "http://127.0.0.1:$PORT" --phase saga "$@"
  echo
  echo "Replay of the saga phase's orders, while the saga phase's components run:"
  echo '```'
  ./target/release/atlantic replay order-views 2>/dev/null | grep -v '^\s*$'
  ./target/release/atlantic replay analytics 2>/dev/null | grep -v '^\s*$'
  echo '```'
  stop_components
  echo
fi

# The read phase on the seeded catalogue, search on the adapter named $1.
read_phase() {
  local adapter=$1
  shift
  fresh_world
  ./target/release/atlantic user create --email bench-admin@example.com --password 'bench admin password' \
    --name Bench --role admin >/dev/null
  start serve
  seeded=$(./target/release/atlantic seed --catalog "$CATALOG" | tail -1)
  echo "seed: $seeded"
  created=$(echo "$seeded" | sed -E 's/^created ([0-9]+).*/\1/')
  for _ in $(seq 600); do
    [ "$(psql "$DATABASE_URL" -Atc 'SELECT count(*) FROM search_products')" = "$created" ] && break
    sleep 0.1
  done
  if [ -n "${MEILI_URL:-}" ]; then
    for _ in $(seq 600); do
      curl -sf -H "Authorization: Bearer $MEILI_MASTER_KEY" "$MEILI_URL/indexes/${MEILI_INDEX_PREFIX}products/stats" \
        | grep -q "\"numberOfDocuments\":$created[,}]" && break
      sleep 0.1
    done
  fi
  token=$(curl -sf "http://127.0.0.1:$PORT/sessions" -H 'content-type: application/json' \
    -d '{"email": "bench-admin@example.com", "password": "bench admin password"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
  echo
  local serve=${pids[0]} peak_file
  peak_file=$(mktemp)
  echo "0" >"$peak_file"
  echo "atlantic serve: $(rss_mib "$serve") MiB resident at rest"
  sample_peak_rss "$serve" "$peak_file" &
  local sampler=$!
  ./target/release/atlantic-bench --api "http://127.0.0.1:$PORT" --query-api "http://127.0.0.1:$QUERY_PORT" \
    --admin-token "$token" --phase read --search-adapter "$adapter" "$@"
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  echo
  echo "atlantic serve: $(rss_mib "$serve") MiB resident after the load, $(cat "$peak_file") MiB at its peak during it"
  rm -f "$peak_file"
  echo
}

# `atlantic replay all`, its figures in a code block.
replay_all() {
  echo '```'
  ./target/release/atlantic replay all 2>/dev/null | grep -v '^\s*$'
  echo '```'
}

# The replays with the read phase's components still running (the saga still
# working through the orders the phase placed), then with them stopped.
replays_beside_and_alone() {
  replay_all
  stop_components
  echo "The same replays with nothing else running:"
  replay_all
}

if wants read; then
  read_phase Postgres --with-commands --products 100 "$@"
  replays_beside_and_alone
  echo
fi

if wants scale; then
  echo "## Scale: 1,000,000 events, 50,000 products"
  echo
  read_phase Postgres --with-commands --products 100 --history 9498 --catalogue-size 50000 "$@"
  replays_beside_and_alone
  echo
fi

wants meilisearch || exit 0
meili=${MEILI_BIN:-../shared/tools/meilisearch}
if [ ! -x "$meili" ]; then
  echo "Meilisearch: skipped, no binary (MEILI_BIN, ../shared/tools/meilisearch)"
  exit 0
fi
MEILI_PORT=${BENCH_MEILI_PORT:-17700}
export MEILI_URL="http://127.0.0.1:$MEILI_PORT"
export MEILI_MASTER_KEY="bench-master-key-$RANDOM$RANDOM"
export MEILI_INDEX_PREFIX="bench_"
meili_dir=$(mktemp -d)
"$meili" --http-addr "127.0.0.1:$MEILI_PORT" --master-key "$MEILI_MASTER_KEY" --no-analytics \
  --max-indexing-memory "${MEILI_MAX_INDEXING_MEMORY:-1GiB}" \
  --db-path "$meili_dir/data.ms" --dump-dir "$meili_dir/dumps" --snapshot-dir "$meili_dir/snapshots" \
  >/dev/null 2>&1 &
meili_pid=$!
for _ in $(seq 100); do
  curl -sf "$MEILI_URL/health" >/dev/null && break
  sleep 0.1
done
echo "Meilisearch $(curl -sf -H "Authorization: Bearer $MEILI_MASTER_KEY" "$MEILI_URL/version" | sed -E 's/.*"pkgVersion":"([^"]+)".*/\1/')"
read_phase Meilisearch "$@"
echo '```'
./target/release/atlantic replay search 2>/dev/null | grep -v '^\s*$'
echo '```'
