"""deploylib.py - what the deployment checks share: the pass/fail tally (same output as
tests/lib.sh), the binaries' own configuration tables (read from `--help`), the
Makefile's program list, docker-compose interpolation, and turning a container's
configuration (compose service or Kubernetes container) into a process environment
pointed at the local stack.
"""
import os
import re
import socket

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The stages every deployment must run, and the binaries' image (deploy/Dockerfile).
STAGES = ("webhook-gw", "fetcher", "normalizer", "writer")
# Hostnames of the deployments' own services: a value still naming one after
# substitution would point a test process at nothing.
DEPLOY_HOSTS = ("kafka", "postgres", "trackstar-sim", "webhook-gw")


class Tally:
    """Prints '  ok    NAME' / '  FAIL  NAME: WHY' like tests/lib.sh and counts them."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failed_names = []

    def ok(self, name):
        self.passed += 1
        print("  ok    %s" % name, flush=True)

    def fail(self, name, why):
        self.failed += 1
        self.failed_names.append(name)
        print("  FAIL  %s: %s" % (name, why), flush=True)

    def check(self, name, cond, why=""):
        if cond:
            self.ok(name)
        else:
            self.fail(name, why)
        return cond

    def finish(self):
        """The last line, parsed by tests/integration/test_deploy.sh."""
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 0 if self.failed == 0 else 1


# ---- the project ---------------------------------------------------------------------

HELP_LINE = re.compile(r"^  ([A-Z][A-Z0-9_]*)\s+(string|int|bool|file)\s+(.*)$")


def parse_help(text):
    """{VAR: {"type", "required", "secret", "default"}} from a binary's --help output
    (common/cfg.c cfg_print_help)."""
    out = {}
    for line in text.splitlines():
        m = HELP_LINE.match(line)
        if not m:
            continue
        rest = m.group(3)
        d = re.match(r"default: (\S+)", rest)
        out[m.group(1)] = {
            "type": m.group(2),
            "required": "(required)" in rest,
            "secret": "[secret]" in rest,
            "default": None if not d or d.group(1) == "(empty)" else d.group(1),
        }
    return out


def load_helps(help_dir):
    """{binary: parsed help} for every <binary>.help file test_deploy.sh wrote."""
    helps = {}
    for f in sorted(os.listdir(help_dir)):
        if f.endswith(".help"):
            with open(os.path.join(help_dir, f)) as fh:
                helps[f[:-5]] = parse_help(fh.read())
    return helps


def makefile_programs(path=None):
    """{name: directory} of PROGRAMS in the top-level Makefile."""
    with open(path or os.path.join(ROOT, "Makefile")) as f:
        text = f.read().replace("\\\n", " ")
    m = re.search(r"^PROGRAMS\s*:=\s*(.*)$", text, re.M)
    if not m:
        return {}
    return dict(p.split(":", 1) for p in m.group(1).split() if ":" in p)


def read_env_file(path):
    """KEY=VALUE lines (comments and blanks skipped), as written by stack.sh or in
    compose.env.example; values are taken literally."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            env[k.strip()] = v
    return env


# ---- docker-compose interpolation ------------------------------------------------------

INTERP = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def compose_vars(text):
    """Every variable the compose file interpolates."""
    names = set()
    for m in INTERP.finditer(text):
        if m.group(0) == "$$":
            continue
        names.add(m.group(1) or m.group(4))
    return names


def interpolate(value, env):
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}, $$.
    Raises ValueError for a required variable that is unset."""

    def sub(m):
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3)
        val = env.get(name)
        if op in (":-", ":?"):
            unset = val is None or val == ""
        else:
            unset = val is None
        if op in (":-", "-"):
            return interpolate(arg, env) if unset else val
        if op in (":?", "?"):
            if unset:
                raise ValueError("%s: %s" % (name, arg))
            return val
        return val or ""

    return INTERP.sub(sub, value)


def interpolate_tree(node, env):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolate_tree(x, env) for x in node]
    if isinstance(node, dict):
        return {k: interpolate_tree(v, env) for k, v in node.items()}
    return node


def compose_env_dict(env):
    """A service's environment: mapping or list form, as strings."""
    if env is None:
        return {}
    if isinstance(env, list):
        out = {}
        for item in env:
            k, _, v = str(item).partition("=")
            out[k] = v
        return out
    return {k: "" if v is None else str(v) for k, v in env.items()}


# ---- Kubernetes ---------------------------------------------------------------------------

def k8s_index(docs):
    """{(kind, name): object} of a rendered overlay."""
    return {(d["kind"], d["metadata"]["name"]): d for d in docs if d}


def k8s_env(container, index, decode_secret):
    """A container's environment as {VAR: (value, source)} where source is 'value',
    'configmap' or 'secret'; value None when it cannot be resolved from the rendering
    (e.g. a Secret the base leaves to the cluster)."""
    out = {}
    for src in container.get("envFrom", []):
        ref = src.get("configMapRef")
        if ref:
            cm = index.get(("ConfigMap", ref["name"])) or {}
            for k, v in cm.get("data", {}).items():
                if re.match(r"^[A-Z][A-Z0-9_]*$", k):  # file keys (topics.sh) are no variables
                    out[k] = (v, "configmap")
    for e in container.get("env", []):
        name = e["name"]
        if "value" in e:
            out[name] = (str(e["value"]), "value")
            continue
        vf = e.get("valueFrom", {})
        if "configMapKeyRef" in vf:
            ref = vf["configMapKeyRef"]
            cm = index.get(("ConfigMap", ref["name"]))
            out[name] = ((cm or {}).get("data", {}).get(ref["key"]), "configmap")
        elif "secretKeyRef" in vf:
            ref = vf["secretKeyRef"]
            sec = index.get(("Secret", ref["name"]))
            val = None
            if sec is not None and ref["key"] in sec.get("data", {}):
                val = decode_secret(sec["data"][ref["key"]])
            out[name] = (val, "secret")
        else:
            out[name] = (None, "other")
    return out


# ---- pointing a configuration at the local stack --------------------------------------------

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Substituter:
    """Replaces what only exists inside a deployment (service addresses, its ports, its
    secrets, paths inside the image) with the local stack's, and records every change
    so the test can show them. Everything else is used exactly as configured."""

    def __init__(self, stack, image_migrations, repo_migrations, group_suffix):
        self.stack = stack
        self.image_migrations = image_migrations
        self.repo_migrations = repo_migrations
        self.group_suffix = group_suffix

    def apply(self, env):
        """Returns (new env, list of 'VAR: old -> new' notes, list of problems)."""
        s = self.stack
        out, notes, problems = dict(env), [], []
        table = {
            "KAFKA_BOOTSTRAP": s.get("KAFKA_BOOTSTRAP"),
            "DATABASE_URL": s.get("DATABASE_URL"),
            "TRACKSTAR_BASE_URL": s.get("TRACKSTAR_BASE_URL"),
            "TRACKSTAR_API_KEY": s.get("TRACKSTAR_API_KEY"),
            "SIM_API_KEY": s.get("TRACKSTAR_API_KEY"),
            "WEBHOOK_SECRETS": s.get("WEBHOOK_SECRET"),
            "SIM_WEBHOOK_SECRETS": s.get("WEBHOOK_SECRET"),
            "TOKEN_ENCRYPTION_KEY": s.get("TOKEN_ENCRYPTION_KEY"),
            # The simulator under test must not feed the running stack's gateway (other
            # suites count what arrives there): its webhooks go to a closed port.
            "SIM_WEBHOOK_URL": "http://127.0.0.1:%d/webhooks/trackstar" % free_port(),
        }
        for k, v in env.items():
            new = None
            if k in table and table[k]:
                new = table[k]
            elif k in ("ADMIN_PORT", "WEBHOOK_GW_PORT", "SIM_PORT"):
                new = str(free_port())
            elif k == "WRITER_MIGRATIONS_DIR":
                if v != self.image_migrations:
                    problems.append("WRITER_MIGRATIONS_DIR=%s, but the image puts the migrations in %s"
                                    % (v, self.image_migrations))
                new = self.repo_migrations
            elif k.endswith("_GROUP") and v:
                # Our own consumer group: joining the running stack's would take its
                # partitions away while this test runs.
                new = v + self.group_suffix
            if new is not None and new != v:
                out[k] = new
                shown = "(secret)" if k in ("TRACKSTAR_API_KEY", "SIM_API_KEY", "WEBHOOK_SECRETS",
                                            "SIM_WEBHOOK_SECRETS", "TOKEN_ENCRYPTION_KEY",
                                            "DATABASE_URL") else "%s -> %s" % (v, new)
                notes.append("%s: %s" % (k, shown))
        if "SIM_PUBLIC_URL" in out and "SIM_PORT" in out:
            # The simulator's own address, as the deployment's value is its own service.
            new = "http://127.0.0.1:%s" % out["SIM_PORT"]
            notes.append("SIM_PUBLIC_URL: %s -> %s" % (out["SIM_PUBLIC_URL"], new))
            out["SIM_PUBLIC_URL"] = new
        for k, v in out.items():
            for host in DEPLOY_HOSTS:
                if re.search(r"(^|[/@,])%s([:/]|$)" % re.escape(host), v or ""):
                    problems.append("%s=%s still names the deployment host %s" % (k, v, host))
        return out, notes, problems
