#!/usr/bin/env bash
# The local stack: dev broker, project-local PostgreSQL, Trackstar simulator and the
# four pipeline stages, on fixed ports derived from STACK_PORT_BASE.
#
#   stack.sh run    everything in the foreground; Ctrl-C stops it all cleanly
#   stack.sh up     the same in the background; returns once every part is ready
#   stack.sh down   stop a background stack
#   stack.sh status which parts are running
#   stack.sh restart-fetcher  stop and start the running stack's fetcher (benches)
#
# STACK_FETCHER_REPLICAS (default 1) starts that many fetcher replicas (at most 9): the
# first is `fetcher` (admin port BASE+102), replica i >= 2 is `fetcher<i>` with admin port
# BASE+110+i (ADMIN_FETCHER<i> in stack.env), same settings otherwise; they share the
# connections through the consumer group on trackstar.fetcher-assignments.v1, which has
# STACK_BROKER_PARTITIONS (4) partitions on the dev broker (docs/fetcher.md).
#
# Everything lives under STACK_VAR (default: <repo>/var): PostgreSQL's data directory,
# logs, pid files, and stack.env, which holds shell assignments for every address,
# port and secret a tool or test needs (`. var/stack.env`).
# SIM_EXTRA_ENV and STACK_FETCHER_ENV ("NAME=value ...") add settings to the simulator
# and the fetcher (the test suite shortens their clocks with them).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN_DIR=${BIN_DIR:-bin}
case "$BIN_DIR" in /*) ;; *) BIN_DIR="$ROOT/$BIN_DIR" ;; esac
VAR=${STACK_VAR:-$ROOT/var}
# Consumer settings of every stage (KAFKA_CONSUMER_EXTRA), for the dev broker:
# - It (librdkafka's mock) does not drop a member that died during a rebalance when its
#   session ends: the survivors' JoinGroup waits the whole rebalance timeout,
#   max.poll.interval.ms (300 s by default). Seen in the fault run: a writer SIGKILLed
#   during a rebalance stalled its replacement for 5 minutes, long enough for the mock's
#   ~5 MiB per partition to drop records it had not read yet. 60 s bounds that stall and
#   is still far longer than any stage goes between two polls.
# - It answers a fetch that finds nothing only after fetch.wait.max.ms (Kafka answers as
#   soon as data arrives), so each consumer hop waits about half of that: 5 ms keeps a
#   record's way near the broker's floor (docs/benchmarks.md, "Latency").
CONSUMER_EXTRA=${STACK_KAFKA_CONSUMER_EXTRA:-session.timeout.ms=6000,heartbeat.interval.ms=500,max.poll.interval.ms=60000,fetch.wait.max.ms=5}
# The fetcher's two consumers carry no record on its way: they read connection events and
# the replicas' assignment, where 50 ms more on average changes nothing (a connection's
# first poll waits seconds for its historical sync anyway). At 5 ms the two sent ~200
# empty fetches a second each: 2.7 % of a core of an idle fetcher at 1,000 connections,
# most of its idle CPU (docs/benchmarks.md, "fetcher scale"). 100 ms comes after the
# stack's settings, so it wins (librdkafka keeps a key's last value).
FETCHER_CONSUMER_EXTRA=${STACK_FETCHER_CONSUMER_EXTRA:-$CONSUMER_EXTRA,fetch.wait.max.ms=100}
mkdir -p "$VAR"
VAR=$(cd "$VAR" && pwd)
BASE=${STACK_PORT_BASE:-17000}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

BROKER_PORT=$((BASE + 92))
PG_PORT=$((BASE + 432))
GW_PORT=$((BASE + 80))
SIM_PORT=$((BASE + 90))
ADMIN_GW=$((BASE + 101)) ADMIN_FETCHER=$((BASE + 102))
ADMIN_NORMALIZER=$((BASE + 103)) ADMIN_WRITER=$((BASE + 104))
FETCHER_REPLICAS=${STACK_FETCHER_REPLICAS:-1}
case "$FETCHER_REPLICAS" in [1-9]) ;; *) echo "stack: STACK_FETCHER_REPLICAS must be 1-9" >&2; exit 2 ;; esac
# fetcher_name I / fetcher_admin_port I: replica I's pid/log name and admin port.
fetcher_name() { if [ "$1" -eq 1 ]; then echo fetcher; else echo "fetcher$1"; fi; }
fetcher_admin_port() { if [ "$1" -eq 1 ]; then echo "$ADMIN_FETCHER"; else echo $((BASE + 110 + $1)); fi; }
LOGS="$VAR/logs" RUN="$VAR/run"

log() { printf 'stack: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# write_secret_file FILE: stdin into FILE, readable by its owner only (0600) on every
# run: written under umask 077 to a temporary file, then renamed over FILE, so the
# secrets are never readable by others, not even for a moment, whatever FILE's mode was.
write_secret_file() {
  local f=$1 tmp
  tmp=$(umask 077 && mktemp "$f.XXXXXX")
  cat > "$tmp"
  chmod 600 "$tmp"
  mv -f "$tmp" "$f"
}

# new_secret NAME: a fresh value for one of the stack's secrets.
new_secret() {
  case $1 in
    WEBHOOK_SECRET) echo "whsec_$(head -c 24 /dev/urandom | base64)" ;;
    TRACKSTAR_API_KEY) echo "sim_$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')" ;;
    TOKEN_ENCRYPTION_KEY) head -c 32 /dev/urandom | base64 ;;
    ADMIN_TOKEN) echo "adm_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')" ;;
  esac
}

# Secrets are made once per stack directory and kept in var/secrets.env (mode 600); one
# missing from an older file (ADMIN_TOKEN came later) is added.
load_secrets() {
  local f="$VAR/secrets.env" name missing=()
  for name in WEBHOOK_SECRET TRACKSTAR_API_KEY TOKEN_ENCRYPTION_KEY ADMIN_TOKEN; do
    grep -q "^$name=" "$f" 2>/dev/null || missing+=("$name")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    { [ -s "$f" ] && cat "$f"
      for name in "${missing[@]}"; do echo "$name=$(new_secret "$name")"; done
    } | write_secret_file "$f"
  fi
  chmod 600 "$f" # an older run may have left it readable
  # shellcheck disable=SC1090
  . "$f"
}

# stack.env holds the webhook secret, the API key and the admin token: 0600 as well.
write_env() {
  write_secret_file "$VAR/stack.env" <<ENV
# Written by deploy/stack/stack.sh; source it: . var/stack.env
STACK_VAR=$VAR
KAFKA_BOOTSTRAP=127.0.0.1:$BROKER_PORT
DATABASE_URL=postgresql://postgres@127.0.0.1:$PG_PORT/trackstar
PGHOST=127.0.0.1
PGPORT=$PG_PORT
PGUSER=postgres
PGDATABASE=trackstar
WEBHOOK_URL=http://127.0.0.1:$GW_PORT/webhooks/trackstar
WEBHOOK_SECRET=$WEBHOOK_SECRET
TRACKSTAR_BASE_URL=http://127.0.0.1:$SIM_PORT
TRACKSTAR_API_KEY=$TRACKSTAR_API_KEY
SIM_URL=http://127.0.0.1:$SIM_PORT
ADMIN_WEBHOOK_GW=http://127.0.0.1:$ADMIN_GW
ADMIN_FETCHER=http://127.0.0.1:$ADMIN_FETCHER
FETCHER_REPLICAS=$FETCHER_REPLICAS
$(for ((i = 2; i <= FETCHER_REPLICAS; i++)); do echo "ADMIN_FETCHER$i=http://127.0.0.1:$(fetcher_admin_port "$i")"; done)
ADMIN_NORMALIZER=http://127.0.0.1:$ADMIN_NORMALIZER
ADMIN_WRITER=http://127.0.0.1:$ADMIN_WRITER
ADMIN_TOKEN=$ADMIN_TOKEN
KAFKA_CONFIG_FILE=$VAR/kafka-client.properties
KAFKA_CONSUMER_EXTRA=$CONSUMER_EXTRA
LOGS=$LOGS
ENV
}

# PostgreSQL refuses to run as root: run it as the postgres system user then.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# PostgreSQL runs as the postgres user, which must be able to reach var/. When the
# project lives below a directory others cannot enter (a root-only checkout), give that
# directory search permission only (o+x: no listing, no reading), and say so.
pg_reach_var() {
  [ "$(id -u)" -eq 0 ] || return 0
  runuser -u postgres -- test -x "$VAR" && return 0
  local d=$VAR
  while [ "$d" != / ]; do
    if [ -z "$(find "$d" -maxdepth 0 -perm -o+x)" ]; then
      log "giving $d search permission (o+x) so that PostgreSQL, running as postgres, reaches $VAR"
      chmod o+x "$d"
    fi
    d=$(dirname "$d")
  done
}

start_pg() {
  local data="$VAR/pg"
  pg_reach_var
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data"
    chmod 700 "$data"
    as_pg "$PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$LOGS/initdb.log" 2>&1 \
      || die "initdb failed (see $LOGS/initdb.log)"
  fi
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$LOGS" 2>/dev/null || true
  touch "$LOGS/postgres.log"; [ "$(id -u)" -eq 0 ] && chown postgres "$LOGS/postgres.log"
  as_pg "$PGBIN/pg_ctl" -D "$data" -l "$LOGS/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=on -c max_connections=200" \
    start >/dev/null || die "PostgreSQL did not start (see $LOGS/postgres.log)"
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='trackstar'" | grep -q 1 \
    || psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc "CREATE DATABASE trackstar" >/dev/null
  log "postgres ready on 127.0.0.1:$PG_PORT"
}

# The schema of every table the project owns, as its own step before the stages start
# (`writer --migrate`, with the role that may change the schema: locally the superuser),
# then the login users the stages connect as: members of the least-privilege group roles
# that migration 006_roles.sql made (docs/operations.md, "Database roles").
migrate_db() {
  local url="postgresql://postgres@127.0.0.1:$PG_PORT/trackstar"
  env DATABASE_URL="$url" WRITER_MIGRATIONS_DIR="$ROOT/writer/migrations" LOG_LEVEL=${LOG_LEVEL:-info} \
    "$BIN_DIR/writer" --migrate >>"$LOGS/migrate.log" 2>&1 || die "migrations failed (see $LOGS/migrate.log)"
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d trackstar -qXv ON_ERROR_STOP=1 >/dev/null <<'SQL' || die "cannot create the stages' database users"
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'writer_app') THEN
    CREATE ROLE writer_app LOGIN IN ROLE trackstar_writer; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fetcher_app') THEN
    CREATE ROLE fetcher_app LOGIN IN ROLE trackstar_fetcher; END IF;
END $$;
SQL
  log "schema migrated; stages connect as writer_app and fetcher_app"
}

# The dev broker keeps its log in memory: every start is an empty broker whose offsets
# begin at 0 again, while the database lives on. The writer's claims (writer_partitions:
# the epoch and the offset applied through, per partition) describe the previous broker's
# log; kept, they would make the writer take the new log's first messages for ones an
# earlier owner may have applied without publishing, and publish the stored rows in their
# place (the same versions, without the messages' timing headers). Real Kafka keeps its
# log, and these rows stay true with it.
forget_broker_offsets() {
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d trackstar -qXv ON_ERROR_STOP=1 \
    -c "DELETE FROM writer_partitions" >/dev/null || die "cannot reset writer_partitions for the new dev broker"
}

stop_pg() {
  [ -s "$VAR/pg/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$VAR/pg" -m fast -w stop >/dev/null 2>&1 || true
}

# start NAME VAR=value... -- command: a process in its own session, logs to LOGS/NAME.log
start() {
  local name=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
}

wait_http() { # name url seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    curl -fsS -o /dev/null --max-time 1 "$2" 2>/dev/null && return 0
    pid_alive "$1" || die "$1 exited during start-up (see $LOGS/$1.log)"
    sleep 0.1
  done
  die "$1 not ready after $3 s (see $LOGS/$1.log)"
}

pid_alive() { [ -s "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

# Every stage reads its Kafka client settings from a properties file, as deployments do
# (KAFKA_CONFIG_FILE). The rack comes through ${file:...}, so the local stack and every
# test on it exercise the secret-file path against the broker too.
write_kafka_properties() {
  printf 'local\n' > "$VAR/kafka-client.rack"
  cat > "$VAR/kafka-client.properties" <<PROPS
# Written by deploy/stack/stack.sh (KAFKA_CONFIG_FILE of every stage). librdkafka
# properties, one key=value a line; \${file:/path} reads a value from a file.
statistics.interval.ms=${STACK_KAFKA_STATS_MS:-5000}
client.rack=\${file:$VAR/kafka-client.rack}
PROPS
}

COMMON_STAGE_ENV=()
set_stage_env() {
  COMMON_STAGE_ENV=(KAFKA_BOOTSTRAP=127.0.0.1:$BROKER_PORT LOG_LEVEL=${LOG_LEVEL:-info}
    KAFKA_CONFIG_FILE="$VAR/kafka-client.properties" KAFKA_CONSUMER_EXTRA="$CONSUMER_EXTRA")
}

# The simulator's Trackstar crawls every few seconds (SIM_SYNC_SCALE): the fetcher looks
# at its crawl times as often, to poll promptly after each, and its margin behind the
# cursor is scaled alike (production defaults: 60 s and 300 s against an hour).
# start_fetcher [I]: replica I (default 1).
start_fetcher() {
  local i=${1:-1}
  start "$(fetcher_name "$i")" "${COMMON_STAGE_ENV[@]}" KAFKA_CONSUMER_EXTRA="$FETCHER_CONSUMER_EXTRA" \
    ADMIN_PORT="$(fetcher_admin_port "$i")" \
    TRACKSTAR_BASE_URL=http://127.0.0.1:$SIM_PORT TRACKSTAR_API_KEY="$TRACKSTAR_API_KEY" ADMIN_TOKEN="$ADMIN_TOKEN" \
    DATABASE_URL="postgresql://fetcher_app@127.0.0.1:$PG_PORT/trackstar" \
    FETCHER_CONN_CHECK_S="${FETCHER_CONN_CHECK_S:-2}" \
    FETCHER_CURSOR_OVERLAP_S="${FETCHER_CURSOR_OVERLAP_S:-2}" \
    TOKEN_ENCRYPTION_KEY="$TOKEN_ENCRYPTION_KEY" ${STACK_FETCHER_ENV:-} -- "$BIN_DIR/fetcher"
}

# Stop the running stack's fetcher and start it again with the same settings (a bench
# measures what a restart costs); returns once it is ready.
restart_fetcher() {
  load_secrets
  set_stage_env
  stop_one fetcher
  start_fetcher
  wait_http fetcher "http://127.0.0.1:$ADMIN_FETCHER/readyz" 60
  log "fetcher restarted (pid $(cat "$RUN/fetcher.pid"))"
}

start_all() {
  mkdir -p "$LOGS" "$RUN"
  load_secrets
  write_env
  write_kafka_properties
  for b in dev-broker webhook-gw fetcher normalizer writer; do
    [ -x "$BIN_DIR/$b" ] || die "$BIN_DIR/$b is missing: run make first"
  done
  start_pg
  migrate_db
  forget_broker_offsets

  rm -f "$RUN/broker.ready"
  start dev-broker DEV_BROKER_PORT=$BROKER_PORT DEV_BROKER_READY_FILE="$RUN/broker.ready" \
    DEV_BROKER_PARTITIONS="${STACK_BROKER_PARTITIONS:-4}" -- "$BIN_DIR/dev-broker"
  for _ in $(seq 100); do [ -s "$RUN/broker.ready" ] && break; pid_alive dev-broker || die "dev-broker exited (see $LOGS/dev-broker.log)"; sleep 0.1; done
  [ -s "$RUN/broker.ready" ] || die "dev-broker not ready"
  log "dev broker ready on 127.0.0.1:$BROKER_PORT"

  set_stage_env
  local ts_env=(TRACKSTAR_BASE_URL=http://127.0.0.1:$SIM_PORT TRACKSTAR_API_KEY="$TRACKSTAR_API_KEY")

  if [ -x "$BIN_DIR/trackstar-sim" ] && [ "${STACK_NO_SIM:-0}" != 1 ]; then
    start trackstar-sim SIM_PORT=$SIM_PORT SIM_API_KEY="$TRACKSTAR_API_KEY" \
      SIM_WEBHOOK_URL=http://127.0.0.1:$GW_PORT/webhooks/trackstar SIM_WEBHOOK_SECRETS="$WEBHOOK_SECRET" \
      SIM_CRAWL_INTERVAL_MS="${STACK_SIM_CRAWL_MS:-0}" \
      ${SIM_EXTRA_ENV:-} -- "$BIN_DIR/trackstar-sim"
    wait_http trackstar-sim "http://127.0.0.1:$SIM_PORT/_sim/health" 30
    log "simulator ready on 127.0.0.1:$SIM_PORT"
  fi

  # Ledger drift is evaluated every few seconds here, as the simulator crawls every few
  # seconds (production default: a minute against hourly ledger polls).
  start writer "${COMMON_STAGE_ENV[@]}" ADMIN_PORT=$ADMIN_WRITER \
    DATABASE_URL="postgresql://writer_app@127.0.0.1:$PG_PORT/trackstar" \
    WRITER_LEDGER_DRIFT_INTERVAL_MS="${WRITER_LEDGER_DRIFT_INTERVAL_MS:-3000}" \
    WRITER_MIGRATIONS_DIR="$ROOT/writer/migrations" -- "$BIN_DIR/writer"
  start normalizer "${COMMON_STAGE_ENV[@]}" ADMIN_PORT=$ADMIN_NORMALIZER -- "$BIN_DIR/normalizer"
  start webhook-gw "${COMMON_STAGE_ENV[@]}" ADMIN_PORT=$ADMIN_GW WEBHOOK_GW_BIND=127.0.0.1 WEBHOOK_GW_PORT=$GW_PORT \
    WEBHOOK_SECRETS="$WEBHOOK_SECRET" TOKEN_ENCRYPTION_KEY="$TOKEN_ENCRYPTION_KEY" "${ts_env[@]}" -- "$BIN_DIR/webhook-gw"
  for ((i = 1; i <= FETCHER_REPLICAS; i++)); do start_fetcher "$i"; done

  wait_http writer "http://127.0.0.1:$ADMIN_WRITER/readyz" 60
  wait_http normalizer "http://127.0.0.1:$ADMIN_NORMALIZER/readyz" 60
  wait_http webhook-gw "http://127.0.0.1:$ADMIN_GW/readyz" 60
  for ((i = 1; i <= FETCHER_REPLICAS; i++)); do
    wait_http "$(fetcher_name "$i")" "http://127.0.0.1:$(fetcher_admin_port "$i")/readyz" 60
  done
  log "all stages ready; webhook URL http://127.0.0.1:$GW_PORT/webhooks/trackstar; env in $VAR/stack.env"
}

# Stop in pipeline order (producers first) so that every stage can flush and commit.
stop_one() {
  local name=$1 pid
  [ -s "$RUN/$name.pid" ] || return 0
  pid=$(cat "$RUN/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "$name did not stop in 10 s: killing"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$RUN/$name.pid"
}

stop_all() {
  mkdir -p "$RUN"
  local name
  for name in trackstar-sim webhook-gw fetcher fetcher2 fetcher3 fetcher4 fetcher5 fetcher6 fetcher7 fetcher8 fetcher9 \
    normalizer writer dev-broker; do
    stop_one "$name"
  done
  stop_pg
}

status() {
  local name
  for name in dev-broker trackstar-sim writer normalizer webhook-gw fetcher fetcher2 fetcher3 fetcher4 fetcher5 \
    fetcher6 fetcher7 fetcher8 fetcher9; do
    case $name in fetcher?) [ -e "$RUN/$name.pid" ] || continue ;; esac
    if pid_alive "$name"; then echo "$name: running (pid $(cat "$RUN/$name.pid"))"; else echo "$name: stopped"; fi
  done
  if [ -s "$VAR/pg/postmaster.pid" ]; then echo "postgres: running"; else echo "postgres: stopped"; fi
}

case "${1:-}" in
  up)
    stop_all
    trap 'stop_all' ERR
    start_all
    trap - ERR
    ;;
  run)
    stop_all
    trap 'log "stopping"; stop_all; exit 0' INT TERM
    trap 'stop_all' ERR
    start_all
    trap - ERR
    log "running; press Ctrl-C to stop"
    # Without errexit here: Ctrl-C kills the sleep below with status 130, and errexit
    # would end the script on that status before the INT trap could stop the stack.
    set +e
    while true; do
      for name in dev-broker writer normalizer webhook-gw fetcher; do
        pid_alive "$name" || { log "$name exited (see $LOGS/$name.log); stopping the stack"; stop_all; exit 1; }
      done
      sleep 1
    done
    ;;
  down) stop_all ;;
  status) status ;;
  restart-fetcher) restart_fetcher ;;
  *) echo "usage: $0 run|up|down|status|restart-fetcher" >&2; exit 2 ;;
esac
