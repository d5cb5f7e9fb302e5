#!/usr/bin/env bash
# Backing services on loopback: PostgreSQL :5432, NATS (JetStream) :4222,
# Redis :6379, ClickHouse HTTP :8123.
#   services.sh up    docker compose where a Docker engine answers, otherwise
#                     the machine's Debian packages (installed if missing)
#   services.sh down  stops what docker compose started; never the machine's own
set -euo pipefail
cd "$(dirname "$0")/.."

WAIT_SECS=${SERVICES_WAIT_SECS:-60}
PG_MIN_CONNECTIONS=300 # the tests open many pools in parallel
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

log() { echo "services: $*" >&2; }
die() { log "error: $*"; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
docker_ok() { have docker && timeout 20 docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; }
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# "Answers" means usable by the tests, so Postgres must take trust auth over
# TCP, allow enough connections and run autovacuum: the read models update
# their rows in place, and a table never vacuumed nor analysed grows with
# dead rows and is planned on no statistics.
pg_sql() {
  psql "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=2" \
    -w -XAtqc "$1" 2>/dev/null
}
pg_setting() { pg_sql "SHOW $1"; }
postgres_ok() {
  local n; n=$(pg_setting max_connections) && [ "${n:-0}" -ge "$PG_MIN_CONNECTIONS" ] \
    && [ "$(pg_setting autovacuum)" = on ]
}
nats_ok() { port_open 4222; }
redis_ok() {
  if have redis-cli; then [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]
  else port_open 6379; fi
}
clickhouse_ok() { [ "$(curl -sf --max-time 2 http://127.0.0.1:8123/ping 2>/dev/null)" = "Ok." ]; }

ALL=(postgres nats redis clickhouse)
all_ok() { local s; for s in "${ALL[@]}"; do "${s}_ok" || return 1; done; }

APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  # Lock timeout: another apt/dpkg run may hold the lock for a while.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    -o DPkg::Lock::Timeout=600 "$@" >/dev/null
}

pg_cluster() { $SUDO pg_ctlcluster --skip-systemctl-redirect "$PG_VER" main "$@"; }

start_postgres() {
  if ! have pg_ctlcluster || ! have psql; then apt_install postgresql; fi
  PG_VER=$(ls /etc/postgresql 2>/dev/null | sort -V | head -1)
  [ -n "$PG_VER" ] || die "no PostgreSQL cluster under /etc/postgresql"
  local conf=/etc/postgresql/$PG_VER/main
  # pg_hba is first-match: put trust rules for local and loopback on top.
  if ! $SUDO grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$conf/pg_hba.conf"; then
    log "postgres: trust auth on loopback in $conf/pg_hba.conf"
    { printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n'
      $SUDO cat "$conf/pg_hba.conf"; } >/tmp/pg_hba.$$
    $SUDO install -m 640 -o postgres -g postgres /tmp/pg_hba.$$ "$conf/pg_hba.conf"
    rm -f /tmp/pg_hba.$$
    if pg_cluster status >/dev/null 2>&1; then pg_cluster reload; fi
  fi
  if ! pg_cluster status >/dev/null 2>&1; then
    log "postgres: starting cluster $PG_VER/main"
    pg_cluster start
  fi
  wait_for postgres_port "$WAIT_SECS" || die "postgres does not accept connections on 127.0.0.1:5432"
  local n; n=$(pg_setting max_connections) || die "postgres: cannot connect as postgres on 127.0.0.1 (check $conf/pg_hba.conf)"
  if [ "$n" -lt "$PG_MIN_CONNECTIONS" ]; then
    # conf.d is included last, so this wins; max_connections needs a restart.
    log "postgres: max_connections $n -> $PG_MIN_CONNECTIONS (restart)"
    echo "max_connections = $PG_MIN_CONNECTIONS" | $SUDO tee "$conf/conf.d/95-atlantic.conf" >/dev/null
    pg_cluster restart
  fi
  if [ "$(pg_setting autovacuum)" != on ]; then
    # ALTER SYSTEM's file is read after every other; a reload applies it.
    log "postgres: autovacuum on (ALTER SYSTEM)"
    pg_sql "ALTER SYSTEM SET autovacuum = on" >/dev/null && pg_sql "SELECT pg_reload_conf()" >/dev/null \
      || die "postgres: cannot turn autovacuum on"
  fi
}
postgres_port_ok() { have pg_isready && pg_isready -q -h 127.0.0.1 -p 5432 || port_open 5432; }

start_redis() {
  have redis-server || apt_install redis-server
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  log "redis: starting"
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

start_nats() {
  [ -x /usr/sbin/nats-server ] || apt_install nats-server
  $SUDO mkdir -p /var/lib/nats-server
  log "nats: starting"
  $SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
}

start_clickhouse() {
  [ -x /usr/sbin/clickhouse-server ] || apt_install clickhouse-server clickhouse-client
  # Debian's 18.16 config leaves listen_host commented out; pin loopback
  # explicitly. listen_try: don't die on hosts without IPv6. The root element
  # is <yandex> in old releases, <clickhouse> in new ones.
  local override=/etc/clickhouse-server/config.d/listen.xml root=yandex
  if grep -q '<clickhouse>' /etc/clickhouse-server/config.xml; then root=clickhouse; fi
  if [ ! -f "$override" ]; then
    $SUDO mkdir -p /etc/clickhouse-server/config.d
    printf '<?xml version="1.0"?>\n<%s>\n    <listen_host>127.0.0.1</listen_host>\n    <listen_host>::1</listen_host>\n    <listen_try>1</listen_try>\n</%s>\n' \
      "$root" "$root" | $SUDO tee "$override" >/dev/null
  fi
  # No systemd here: run it as the package's user, like its init script does.
  log "clickhouse: starting"
  $SUDO start-stop-daemon --start --oknodo --background --chuid clickhouse:clickhouse \
    --user clickhouse --exec /usr/sbin/clickhouse-server -- \
    --config-file=/etc/clickhouse-server/config.xml
}

wait_for() { # wait_for NAME SECS: poll NAME_ok every 0.2 s
  local i
  for ((i = 0; i < $2 * 5; i++)); do "${1}_ok" && return 0; sleep 0.2; done
  return 1
}

up() {
  if all_ok; then log "all services already answer"; return; fi
  if docker_ok; then
    log "docker engine found: docker compose up"
    docker compose up -d --wait "${ALL[@]}"
    return
  fi
  local s
  for s in "${ALL[@]}"; do "${s}_ok" || "start_$s"; done
  for s in "${ALL[@]}"; do
    wait_for "$s" "$WAIT_SECS" || die "$s does not answer on 127.0.0.1 after ${WAIT_SECS}s"
    log "$s answers"
  done
}

down() {
  if docker_ok && [ -n "$(docker compose ps -q 2>/dev/null)" ]; then
    docker compose --profile app down
  else
    log "nothing started by docker compose; the machine's services are shared, leaving them running"
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
