"""What the Python checks of the integration suites share: the "  ok" / "  FAIL" lines and
the count that tests/run-integration.sh tallies, the stack's env file, psql, and the
running stack (simulator, database, tsctl, the writer's /metrics)."""
import json, subprocess, time, urllib.request
from datetime import datetime

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


class Stack:
    """The running stack of a STACK_ENV file: its simulator, database, tsctl and writer."""

    def __init__(self, env_file, tsctl):
        self.env_file, self.tsctl = env_file, tsctl
        self.env = load_env(env_file)

    def sim(self, method, path, body=None):
        req = urllib.request.Request(self.env["SIM_URL"] + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"x-trackstar-api-key": self.env["TRACKSTAR_API_KEY"],
                                              "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read()
            return json.loads(text) if text else None

    def truth(self, resource, conn):
        """The simulator's truth of a resource for one connection, every page: id -> record."""
        out, token = {}, None
        while True:
            page = self.sim("GET", "/_sim/truth/%s?connection_id=%s&limit=1000%s"
                            % (resource, conn, "&page_token=" + token if token else ""))
            for rec in page["data"]:
                out[rec["id"]] = rec
            token = page.get("next_token")
            if not token:
                return out

    def sql(self, query):
        return psql(self.env["DATABASE_URL"], query)

    def tsctl_json(self, *args):
        r = subprocess.run([self.tsctl, "--env", self.env_file, "--json", *args],
                           capture_output=True, text=True, timeout=120)
        return json.loads(r.stdout) if r.stdout.strip() else None

    def metric_sum(self, name):
        text = urllib.request.urlopen(self.env["ADMIN_WRITER"] + "/metrics", timeout=10).read().decode()
        return sum(float(l.split()[-1]) for l in text.splitlines()
                   if l.startswith(name + "{") or l.startswith(name + " "))


def wait(pred, seconds):
    """Poll pred every second until it is true or seconds have passed; its last value."""
    end = time.time() + seconds
    while time.time() < end:
        if pred():
            return True
        time.sleep(1)
    return pred()


def epoch(s):
    """Seconds of an RFC 3339 UTC timestamp (whole seconds, as the database compares them
    here); 0 for none."""
    if not s:
        return 0
    return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())
