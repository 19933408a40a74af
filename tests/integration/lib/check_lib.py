"""What the Python checks of the integration suites share: the "  ok" / "  FAIL" lines and
the count that tests/run-integration.sh tallies, the stack's env file, and psql."""
import subprocess

counts = {"passed": 0, "failed": 0}


def report(ok, name, why=""):
    if ok:
        counts["passed"] += 1
        print("  ok    " + name)
    else:
        counts["failed"] += 1
        print("  FAIL  %s: %s" % (name, why))


def finish():
    """Print the tally line; the exit status (0 when nothing failed)."""
    print("%d passed, %d failed" % (counts["passed"], counts["failed"]))
    return 1 if counts["failed"] else 0


def load_env(path):
    """KEY=value lines of a stack.env file."""
    env = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    return env


def psql(url, sql):
    """Rows as psql -XtA -F'|' prints them; raises on an error."""
    r = subprocess.run(["psql", url, "-XtA", "-F", "|", "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return r.stdout.strip()


def q(s):
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"
