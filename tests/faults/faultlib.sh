# tests/faults/faultlib.sh - helpers for the fault tests (sourced, not run): a private
# local stack (deploy/stack/stack.sh) on its own ports, and the faults themselves:
# SIGKILL and restart of one stage, an immediate PostgreSQL restart, a broker pause.
#
# The caller sets ROOT, BIN_DIR, STACK_VAR and STACK_PORT_BASE before sourcing, and calls
# fl_stack_up / fl_stack_down. Every process started here is written to the stack's pid
# files, so `stack.sh down` stops the restarted stages too. Nothing here touches any
# other stack: all pids come from STACK_VAR/run.

FL_STAGES=(webhook-gw normalizer writer fetcher)
FL_PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
FL_KILLS=()            # "stage" per SIGKILL done, for the report
FL_PG_RESTARTS=0
FL_BROKER_PAUSES=0
FL_UNEXPECTED_EXITS=() # stages found dead that we had not killed (crashes)

fl_log() { printf '  ..    [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

fl_as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

fl_pid() { cat "$STACK_VAR/run/$1.pid" 2>/dev/null; }
fl_alive() { local p; p=$(fl_pid "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

fl_simctl() { # METHOD PATH [JSON]
  curl -sS --max-time 30 -X "$1" -H "x-trackstar-api-key: $TRACKSTAR_API_KEY" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "$SIM_URL$2"
}

# fl_metric URL NAME: the sum of every series of metric NAME (labels ignored)
fl_metric() {
  curl -fsS --max-time 5 "$1/metrics" 2>/dev/null |
    awk -v m="$2" '{ n = $1; sub(/\{.*/, "", n) } n == m { s += $2 } END { printf "%d\n", s }'
}

# fl_sim_stat NAME: one field of GET /_sim/webhooks/stats
fl_sim_stat() {
  fl_simctl GET /_sim/webhooks/stats | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"
}

# fl_ports_free: none of the stack's ports (base+80 .. base+432) is in use. A port still
# held by a process that is going away gets up to 30 s.
fl_ports_free() {
  local b=$STACK_PORT_BASE p busy i
  for ((i = 0; i < 30; i++)); do
    busy=
    for p in $((b + 80)) $((b + 90)) $((b + 92)) $((b + 101)) $((b + 102)) $((b + 103)) $((b + 104)) $((b + 432)); do
      ss -Hltn "sport = :$p" 2>/dev/null | grep -q . && busy="$busy $p"
    done
    [ -z "$busy" ] && return 0
    sleep 1
  done
  echo "faults: ports in use:$busy (another stack on FAULT_PORT_BASE=$b?)" >&2
  return 1
}

fl_stack_up() {
  fl_ports_free || return 1
  rm -rf "$STACK_VAR"
  mkdir -p "$STACK_VAR"
  if ! "$ROOT/deploy/stack/stack.sh" up; then
    echo "faults: the stack did not start; logs:" >&2
    tail -n 20 "$STACK_VAR"/logs/*.log >&2
    return 1
  fi
  # shellcheck disable=SC1090
  . "$STACK_VAR/stack.env"
  # The exact command line and environment of each stage, to restart it the same way.
  # They hold secrets: private to this user, deleted with the stack directory.
  local s p
  mkdir -p "$STACK_VAR/restart"
  chmod 700 "$STACK_VAR/restart"
  for s in "${FL_STAGES[@]}" dev-broker; do
    p=$(fl_pid "$s")
    cp "/proc/$p/environ" "$STACK_VAR/restart/$s.environ"
    cp "/proc/$p/cmdline" "$STACK_VAR/restart/$s.cmdline"
    chmod 600 "$STACK_VAR/restart/$s".*
  done
}

fl_stack_down() {
  "$ROOT/deploy/stack/stack.sh" down >/dev/null 2>&1 || true
  rm -rf "$STACK_VAR/restart"
}

# fl_check_alive: every stage and the broker still running; a dead one is a crash
# (every SIGKILL here is followed by a restart before this is called).
fl_check_alive() {
  local s
  for s in "${FL_STAGES[@]}" dev-broker trackstar-sim; do
    if ! fl_alive "$s"; then
      FL_UNEXPECTED_EXITS+=("$s")
      fl_log "$s is not running: it exited on its own (crash?) - see $STACK_VAR/logs/$s.log"
      [ "$s" != dev-broker ] && [ "$s" != trackstar-sim ] && fl_start_stage "$s"
    fi
  done
}

# fl_start_stage NAME: start NAME again exactly as stack.sh did (same environment and
# arguments), in its own session, appending to its log.
fl_start_stage() {
  local name=$1 envs argv
  mapfile -d '' envs <"$STACK_VAR/restart/$name.environ"
  mapfile -d '' argv <"$STACK_VAR/restart/$name.cmdline"
  env -i "${envs[@]}" setsid "${argv[@]}" >>"$STACK_VAR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$STACK_VAR/run/$name.pid"
  disown $! # no "Killed" notice from bash when the next fault kills it
}

# fl_kill_stage NAME: SIGKILL it (no chance to flush or commit), then restart it.
fl_kill_stage() {
  local name=$1 pid
  pid=$(fl_pid "$name")
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    FL_UNEXPECTED_EXITS+=("$name")
    fl_log "$name was already dead before its SIGKILL (crash?)"
  else
    kill -KILL "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  FL_KILLS+=("$name")
  fl_log "SIGKILL $name (pid $pid); restarting it"
  sleep "${FL_DOWN_S:-1}"
  fl_start_stage "$name"
}

# fl_restart_pg: an immediate (crash-like) stop, then start with the same options
# (pg_ctl restart reuses postmaster.opts); the stages must reconnect on their own.
fl_restart_pg() {
  fl_log "PostgreSQL: immediate stop, then start"
  fl_as_pg "$FL_PGBIN/pg_ctl" -D "$STACK_VAR/pg" -l "$STACK_VAR/logs/postgres.log" -m immediate -w -t 60 \
    restart >/dev/null 2>&1 || fl_log "pg_ctl restart failed (see $STACK_VAR/logs/postgres.log)"
  FL_PG_RESTARTS=$((FL_PG_RESTARTS + 1))
}

# fl_pause_broker SECONDS: SIGSTOP the dev broker (a restart would lose its data, which
# no real Kafka cluster does), then SIGCONT it.
fl_pause_broker() {
  local pid
  pid=$(fl_pid dev-broker)
  fl_log "broker paused for $1 s"
  kill -STOP "$pid"
  sleep "$1"
  kill -CONT "$pid"
  fl_log "broker resumed"
  FL_BROKER_PAUSES=$((FL_BROKER_PAUSES + 1))
}

# fl_crash_markers: lines in any log of the stack that show a crash or a sanitizer
# report, and PostgreSQL unique violations (an upsert that is not idempotent).
fl_crash_markers() {
  grep -HnE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation fault|core dumped|stack smashing|double free|Assertion .* failed|"level":"fatal"|duplicate key value violates unique constraint' \
    "$STACK_VAR"/logs/*.log 2>/dev/null | head -20
}
