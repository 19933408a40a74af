#!/usr/bin/env bash
# test_migrations.sh - one migration step for every table, least-privilege roles, and
# version N and N+1 of the writer side by side on one database during an upgrade
# (docs/operations.md, "Migrations"):
#
#  1. The previous release's writer (N: the tree before the newest migration was added,
#     built from `git archive`) sets up a new database, as a database
#     owner role that may change the schema, and consumes the stack's canonical topics.
#  2. While it runs, this tree's `writer --migrate` (N+1) applies the new migrations;
#     N keeps running and stays ready.
#  3. N+1's writer starts in the same consumer group as a least-privilege user. A new
#     simulator connection's orders go through the pipeline; the two writers share the
#     partitions and the database ends up with exactly the rows the stack's own database
#     has. Neither logs an error; both stop with exit 0.
#  4. Roles: every table has the grants its name calls for; the writer's role cannot
#     write the fetcher's tables nor change the schema, the fetcher's cannot write domain
#     tables.
#  5. The rule: migrations added since N only expand (no DROP, RENAME, type change or
#     SET NOT NULL unless the file is marked "-- contract:").
# Run by tests/run-integration.sh with the stack up; alone:
#   make up && STACK_ENV=var/stack.env bash tests/integration/test_migrations.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=../lib.sh
. tests/lib.sh
stack_env
BIN_DIR=${BIN_DIR:-bin}
case "$BIN_DIR" in /*) ;; *) BIN_DIR=$ROOT/$BIN_DIR ;; esac
TMP=$(mktemp -d)
DB=trackstar_upgrade_$$
PIDS=()
pg() { psql "postgresql://${1}@127.0.0.1:$PGPORT/${2:-$DB}" -XtAq -v ON_ERROR_STOP=1 -c "$3"; }
cleanup() {
  local p; for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 1; for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  pg postgres postgres "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT
BASE=$((PGPORT - 432)) # the stack's port base; +150.. is free there
ADMIN_OLD=$((BASE + 150)) ADMIN_NEW=$((BASE + 151))
GROUP=trackstar-writer-upgrade-$$

# ---- N: the tree before the newest migration was added --------------------------------
# N: the tree before the newest migration was added (a migration not yet released may
# still be edited after it: the pair compared is the one an upgrade goes through).
last=$(git log -1 --first-parent --diff-filter=A --format=%H -- writer/migrations 2>/dev/null)
OLD=$(git rev-parse --verify -q "$last^" 2>/dev/null)
if [ -z "$OLD" ]; then fail "the previous release (git history)" "no commit before $last"; finish; exit 1; fi
OLD_DIR=$ROOT/build/writer-$OLD
if [ ! -x "$OLD_DIR/bin/writer" ]; then
  rm -rf "$OLD_DIR"; mkdir -p "$OLD_DIR"
  # SANITIZE=0: a `make SANITIZE=1 test` passes SANITIZE=1 down (MAKEFLAGS), which would
  # build bin-san/writer instead; the old release's writer is only a client here.
  git archive "$OLD" | tar -x -C "$OLD_DIR" &&
    nice -n 10 make -C "$OLD_DIR" SANITIZE=0 -j2 bin/writer >"$TMP/old-build.log" 2>&1
fi
if [ -x "$OLD_DIR/bin/writer" ]; then pass "writer of ${OLD:0:12} (before ${last:0:12}) built"
else fail "writer of ${OLD:0:12} built" "$(tail -5 "$TMP/old-build.log")"; finish; exit 1; fi

# A database owned by a role that may change the schema (and create the group roles).
pg postgres postgres "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'trackstar_ddl') THEN CREATE ROLE trackstar_ddl LOGIN CREATEROLE; END IF; END \$\$" >/dev/null
pg postgres postgres "CREATE DATABASE $DB OWNER trackstar_ddl" >/dev/null
DDL_URL=postgresql://trackstar_ddl@127.0.0.1:$PGPORT/$DB

writer_env=(KAFKA_BOOTSTRAP="$KAFKA_BOOTSTRAP" WRITER_GROUP="$GROUP" LOG_LEVEL=info
  KAFKA_CONSUMER_EXTRA="session.timeout.ms=6000,heartbeat.interval.ms=500,max.poll.interval.ms=60000")
start_writer() { # NAME BINARY ADMIN_PORT URL MIGRATIONS_DIR
  env "${writer_env[@]}" ADMIN_PORT="$3" DATABASE_URL="$4" WRITER_MIGRATIONS_DIR="$5" \
    "$2" >"$TMP/$1.log" 2>&1 </dev/null &
  PIDS+=($!); eval "PID_$1=$!"
}
ready() { curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$1/readyz"; }
alive() { kill -0 "$1" 2>/dev/null; }

# N as it was deployed: if it knows --migrate, that step first; else it migrates at start.
if "$OLD_DIR/bin/writer" --help 2>/dev/null | grep -q -- '--migrate'; then
  env DATABASE_URL="$DDL_URL" WRITER_MIGRATIONS_DIR="$OLD_DIR/writer/migrations" "$OLD_DIR/bin/writer" --migrate >"$TMP/old-migrate.log" 2>&1 \
    || fail "N: writer --migrate" "$(tail -3 "$TMP/old-migrate.log")"
fi
start_writer old "$OLD_DIR/bin/writer" "$ADMIN_OLD" "$DDL_URL" "$OLD_DIR/writer/migrations"
if wait_for 60 ready "$ADMIN_OLD"; then pass "N: writer ready on a new database ($(pg postgres "" "SELECT count(*) FROM schema_migrations") migrations)"
else fail "N: writer ready" "$(tail -n 3 "$TMP/old.log")"; fi

# ---- the upgrade: N+1's migrations while N runs -------------------------------------
if env DATABASE_URL="$DDL_URL" WRITER_MIGRATIONS_DIR="$ROOT/writer/migrations" LOG_LEVEL=info \
  "$BIN_DIR/writer" --migrate >"$TMP/migrate.log" 2>&1; then
  pass "N+1: writer --migrate applies $(grep -c '"migration applied"' "$TMP/migrate.log") new migrations while N runs"
else fail "N+1: writer --migrate while N runs" "$(tail -n 3 "$TMP/migrate.log")"; fi
if alive "$PID_old" && ready "$ADMIN_OLD"; then pass "N: still running and ready after the migration"
else fail "N: still running and ready after the migration" "$(tail -n 3 "$TMP/old.log")"; fi
check "N+1: writer --migrate again is a no-op (exit 0)" env DATABASE_URL="$DDL_URL" \
  WRITER_MIGRATIONS_DIR="$ROOT/writer/migrations" "$BIN_DIR/writer" --migrate

pg postgres "" "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upgrade_writer_app') THEN CREATE ROLE upgrade_writer_app LOGIN IN ROLE trackstar_writer; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upgrade_fetcher_app') THEN CREATE ROLE upgrade_fetcher_app LOGIN IN ROLE trackstar_fetcher; END IF;
END \$\$" >/dev/null
start_writer new "$BIN_DIR/writer" "$ADMIN_NEW" "postgresql://upgrade_writer_app@127.0.0.1:$PGPORT/$DB" "$ROOT/writer/migrations"
if wait_for 60 ready "$ADMIN_NEW"; then pass "N+1: writer ready beside N, as the least-privilege user"
else fail "N+1: writer ready beside N" "$(tail -n 3 "$TMP/new.log")"; fi
# Both must share the work before the data flows: the group rebalances when N+1 joins,
# which on a loaded machine takes longer than the orders take to arrive.
assigned() { grep '"partitions assigned"' "$TMP/$1.log" | grep -qv '"count":"0"'; }
wait_for 60 assigned new || true

# ---- side by side: one connection's orders through both -----------------------------
conn=$(simctl POST /_sim/connections '{"orders":12,"products":2,"emit_created":1}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["connection_id"])')
rows() { pg "$1" "$2" "SELECT id || ' ' || source_updated_at FROM orders WHERE connection_id = '$conn' ORDER BY id"; }
# The orders Trackstar's copy holds (some of the 12 are older than the historical sync's
# window: the WMS has them, the copy does not; docs/simulator.md).
want=$(simctl GET "/_sim/truth/orders?connection_id=$conn&limit=100" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]))')
same_rows() {
  local a b
  a=$(rows postgres trackstar) b=$(rows postgres "$DB")
  [ -n "$a" ] && [ "$(wc -l <<<"$a")" -ge "${want:-12}" ] && [ "$a" = "$b" ]
}
if [ -n "$conn" ] && wait_for 120 same_rows; then pass "the upgrade database holds exactly the stack's $(rows postgres trackstar | wc -l) orders of a new connection"
else fail "the upgrade database matches the stack's" "stack $(rows postgres trackstar | wc -l), upgrade $(rows postgres "$DB" | wc -l) rows"; fi
for w in old new; do
  assigned "$w" && pass "$w writer was assigned partitions of the shared group" \
    || fail "$w writer was assigned partitions" "no assignment in its log"
  check_eq "$w writer logged no error" 0 "$(grep -c '"level":"error"' "$TMP/$w.log")"
done
for w in old new; do
  eval "p=\$PID_$w"
  kill -TERM "$p"; for _ in $(seq 150); do alive "$p" || break; sleep 0.1; done
  wait "$p"; check_eq "$w writer exits 0 on SIGTERM" 0 "$?"
done

# ---- roles -------------------------------------------------------------------------
bad=$(pg postgres "" "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT IN ('schema_migrations', 'fetcher_schema') AND NOT (
    CASE WHEN c.relname LIKE 'fetcher\_%'
      THEN has_table_privilege('trackstar_fetcher', c.oid, 'INSERT,UPDATE,DELETE') AND NOT has_table_privilege('trackstar_writer', c.oid, 'INSERT')
      ELSE has_table_privilege('trackstar_writer', c.oid, 'INSERT,UPDATE,DELETE') AND NOT has_table_privilege('trackstar_fetcher', c.oid, 'SELECT')
    END AND has_table_privilege('trackstar_reader', c.oid, 'SELECT') AND NOT has_table_privilege('trackstar_reader', c.oid, 'INSERT'))")
check_eq "every table has the grants its name calls for (fetcher_* to the fetcher, the rest to the writer)" "" "$bad"
denied() { ! pg "$1" "" "$2" >/dev/null 2>"$TMP/denied.err" && grep -q 'permission denied' "$TMP/denied.err"; }
check "the writer's role cannot write the fetcher's tables" denied upgrade_writer_app "DELETE FROM fetcher_connections"
check "the writer's role cannot change the schema" denied upgrade_writer_app "CREATE TABLE x (a int)"
check "the fetcher's role cannot write domain tables" denied upgrade_fetcher_app "DELETE FROM orders"
check "the fetcher's role cannot read domain tables" denied upgrade_fetcher_app "SELECT 1 FROM orders LIMIT 1"
check "the fetcher's role reads and writes its own tables" pg upgrade_fetcher_app "" "UPDATE fetcher_streams SET updated_at = updated_at"

# ---- the rule: expand only ---------------------------------------------------------
contract=()
for f in $(git diff --name-only --diff-filter=AM "$OLD" -- writer/migrations; git ls-files --others --exclude-standard writer/migrations); do
  grep -q '^-- contract:' "$f" && continue
  # An index rebuilt under its name (dropped, then created again, e.g. with its columns in
  # another order) expands: no statement of version N names an index, and a plain index
  # decides no conflict. Such a drop is left out of the check.
  rebuilt=$(grep -ioE '^CREATE +INDEX +[a-z0-9_]+' "$f" | awk '{ print tolower($3) }' | sort -u | paste -sd'|')
  grep -viE "^DROP +INDEX +(${rebuilt:-^$});" "$f" |
    grep -qiE '\bDROP +(TABLE|COLUMN|VIEW|INDEX)|\bRENAME\b|ALTER +COLUMN[^;]* TYPE|SET +NOT +NULL' && contract+=("$f")
done
check_eq "migrations since N only expand (or are marked -- contract:)" "" "${contract[*]}"

finish
