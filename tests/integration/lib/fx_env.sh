# tests/integration/lib/fx_env.sh - a private environment for fetcher tests (sourced):
# its own dev broker, PostgreSQL and Trackstar simulator on ports FX_BASE+..., so that
# faults injected into the simulator and fetcher replicas started here touch nothing
# else. fx_env_up starts it, fx_env_down (run from an EXIT trap) stops everything that
# was started, by pid.
#
#   FX_BASE  port base (default 23000): broker +92, PostgreSQL +432, simulator +90,
#            fetcher admin ports +101, +102, ...
#   FX_DIR   scratch directory (default: a new mktemp -d)

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BIN_DIR=${BIN_DIR:-bin}
case "$BIN_DIR" in /*) ;; *) BIN_DIR="$ROOT/$BIN_DIR" ;; esac
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
FX_FETCHER=${FX_FETCHER:-$BIN_DIR/fetcher}   # e.g. bin-san/fetcher with the rest from bin/
FX_BASE=${FX_BASE:-23000}
FX_DIR=${FX_DIR:-$(mktemp -d /tmp/fx_test.XXXXXX)}
FX_BROKER=127.0.0.1:$((FX_BASE + 92))
FX_PGPORT=$((FX_BASE + 432))
FX_DB="postgresql://postgres@127.0.0.1:$FX_PGPORT/postgres"
FX_SIM=http://127.0.0.1:$((FX_BASE + 90))
FX_API_KEY=fx_test_api_key
# The simulator's Trackstar crawls every few seconds (SIM_SYNC_SCALE 0.001): the fetcher's
# margin behind the cursor is scaled the same way (production: 300 s against an hour).
FX_MARGIN_S=2
FX_TOKEN_KEY=$(head -c 32 /dev/urandom | base64)
FX_ADMIN_TOKEN=adm_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_') # the admin routes' bearer
FX_PIDS=()

fx_log() { printf '  ..    %s\n' "$*"; }

fx_as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# fx_bg NAME CMD...: run in the background, log to FX_DIR/NAME.log, remember the pid
fx_bg() {
  local name=$1; shift
  setsid "$@" >>"$FX_DIR/$name.log" 2>&1 </dev/null &
  local pid=$!
  FX_PIDS+=("$pid")
  echo "$pid" >"$FX_DIR/$name.pid"
}

fx_pid() { cat "$FX_DIR/$1.pid" 2>/dev/null; }

fx_wait_http() { # url seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# fx_sim_start [VAR=value...]: the simulator with test settings (debug log: one line
# per request, used to count requests per second)
fx_sim_start() {
  fx_bg sim env SIM_PORT=$((FX_BASE + 90)) SIM_API_KEY=$FX_API_KEY SIM_CONNECTIONS=0 \
    SIM_HISTORICAL_SYNC_MS=0 LOG_LEVEL=debug "$@" "$BIN_DIR/trackstar-sim"
  fx_wait_http "$FX_SIM/_sim/health" 20
}

fx_env_up() {
  mkdir -p "$FX_DIR"
  [ "$(id -u)" -eq 0 ] && chmod 755 "$FX_DIR"
  mkdir -p "$FX_DIR/pg"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$FX_DIR/pg"
  chmod 700 "$FX_DIR/pg"
  fx_as_pg "$PGBIN/initdb" -D "$FX_DIR/pg" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$FX_DIR/initdb.log" 2>&1 || return 1
  touch "$FX_DIR/postgres.log"; [ "$(id -u)" -eq 0 ] && chown postgres "$FX_DIR/postgres.log"
  fx_as_pg "$PGBIN/pg_ctl" -D "$FX_DIR/pg" -l "$FX_DIR/postgres.log" -w -t 60 \
    -o "-p $FX_PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off" start >/dev/null || return 1
  # The fetcher's tables come from the one migration step, as in every deployment.
  env DATABASE_URL="$FX_DB" WRITER_MIGRATIONS_DIR="$ROOT/writer/migrations" \
    "$BIN_DIR/writer" --migrate >>"$FX_DIR/migrate.log" 2>&1 || return 1
  rm -f "$FX_DIR/broker.ready"
  fx_bg broker env DEV_BROKER_PORT=$((FX_BASE + 92)) DEV_BROKER_READY_FILE="$FX_DIR/broker.ready" "$BIN_DIR/dev-broker"
  local i
  for ((i = 0; i < 100; i++)); do [ -s "$FX_DIR/broker.ready" ] && break; sleep 0.1; done
  [ -s "$FX_DIR/broker.ready" ] || return 1
  fx_sim_start "$@"
}

fx_env_down() {
  local p
  for p in "${FX_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
  for p in "${FX_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  [ -s "$FX_DIR/pg/postmaster.pid" ] && fx_as_pg "$PGBIN/pg_ctl" -D "$FX_DIR/pg" -m immediate -w stop >/dev/null 2>&1
  [ "${FX_KEEP:-0}" = 1 ] || rm -rf "$FX_DIR"
}

# fx_fetcher NAME N [VAR=value...]: a fetcher replica with admin port FX_BASE+100+N
fx_fetcher() {
  local name=$1 n=$2; shift 2
  fx_bg "$name" env KAFKA_BOOTSTRAP=$FX_BROKER KAFKA_CONSUMER_EXTRA=session.timeout.ms=6000,heartbeat.interval.ms=500 \
    ADMIN_PORT=$((FX_BASE + 100 + n)) TRACKSTAR_BASE_URL=$FX_SIM TRACKSTAR_API_KEY=$FX_API_KEY \
    DATABASE_URL=$FX_DB TOKEN_ENCRYPTION_KEY=$FX_TOKEN_KEY FETCHER_HIST_CHECK_S=1 FETCHER_REFRESH_MS=300 \
    FETCHER_CONN_CHECK_S=1 FETCHER_CURSOR_OVERLAP_S=$FX_MARGIN_S \
    ADMIN_TOKEN=$FX_ADMIN_TOKEN LOG_LEVEL=${FX_LOG_LEVEL:-info} "$@" "$FX_FETCHER"
  local t0=$SECONDS
  fx_wait_http "http://127.0.0.1:$((FX_BASE + 100 + n))/readyz" 30 || return 1
  [ $((SECONDS - t0)) -le 3 ] || fx_log "$name took $((SECONDS - t0)) s to become ready"
}
fx_admin() { echo "http://127.0.0.1:$((FX_BASE + 100 + $1))"; }
# fx_admin_curl CURL-ARGS...: curl with the admin routes' bearer token
fx_admin_curl() { curl -H "Authorization: Bearer $FX_ADMIN_TOKEN" "$@"; }

# The fetcher's own command line, in this environment.
fx_cmd() {
  env KAFKA_BOOTSTRAP=$FX_BROKER TRACKSTAR_BASE_URL=$FX_SIM TRACKSTAR_API_KEY=$FX_API_KEY \
    DATABASE_URL=$FX_DB TOKEN_ENCRYPTION_KEY=$FX_TOKEN_KEY "$FX_FETCHER" "$@"
}

fx_sql() { psql "$FX_DB" -XtA -F'|' -c "$1"; }

# fx_simctl METHOD PATH [JSON]: the simulator's control API
fx_simctl() {
  curl -sS -X "$1" -H "x-trackstar-api-key: $FX_API_KEY" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} "$FX_SIM$2"
}

# fx_sim_conn JSON: create a simulator connection; prints "id token"
fx_sim_conn() {
  fx_simctl POST /_sim/connections "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["connection_id"], d["access_token"])'
}

# fx_publish_event TYPE JSON: what webhook-gw would put on the raw topic
fx_publish_event() {
  local conn key
  conn=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["connection_id"])' "$2")
  # Keyed as webhook-gw keys them (gw_envelope_key): a connection's created and deleted
  # events share one key, so one partition keeps them in the order they were published.
  case $1 in
  connection.created | connection.deleted) key="$conn|connection|$conn" ;;
  *) key="$conn|connection|$1" ;;
  esac
  printf '%s\n' "$2" | kcat -P -b "$FX_BROKER" -t trackstar.raw.v1 -k "$key" \
    -H "source=webhook" -H "event_type=$1" -H "event_id=msg_test_$RANDOM$RANDOM" 2>/dev/null
}

# fx_raw FILE: dump the raw topic (JSON per message, headers included) into FILE
fx_raw() { kcat -b "$FX_BROKER" -C -t trackstar.raw.v1 -e -q -J 2>/dev/null >"$1"; }

# fx_raw_record FILE: record the raw topic from now on into FILE, in the background (its
# pid in FX_RECORDER). The dev broker keeps only about 5 MiB per partition, and this suite
# puts more than that on the raw topic: a step that must see everything a fetcher published
# reads it as it comes instead of dumping the topic afterwards.
fx_raw_record() {
  kcat -b "$FX_BROKER" -C -t trackstar.raw.v1 -o "s@$(date +%s%3N)" -u -q -J 2>/dev/null >"$1" &
  FX_RECORDER=$!
  FX_PIDS+=("$FX_RECORDER")
}

fx_metric() { curl -fsS "$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }

# fx_wait SECONDS CMD...: poll every 0.5 s
fx_wait() {
  local s=$1 i; shift
  for ((i = 0; i < s * 2; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}
