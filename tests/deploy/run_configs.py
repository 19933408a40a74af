#!/usr/bin/env python3
"""run_configs.py - runs every binary with the exact configuration docker-compose and
Kubernetes give it, pointed at the local stack: only the deployment's own addresses,
ports, secrets and image paths are replaced (deploylib.Substituter; each change is
printed). Each process must become ready (/readyz 200), pass the deployment's own
health check (compose healthcheck command, Kubernetes probes), serve /metrics, never
print a secret, and exit 0 on SIGTERM within its grace period.

  run_configs.py --bin-dir DIR --stack-env FILE [--rendered NAME=FILE ...]
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_static as cs  # noqa: E402  (Dockerfile parsing)
import deploylib as dl  # noqa: E402

READY_TIMEOUT_S = 90   # a consumer's first group join can wait for a rebalance
HTTP_TIMEOUT_S = 3
LOG_TAIL = 1500

T = dl.Tally()


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def grace_seconds(v):
    m = re.match(r"^(\d+)(s?)$", str(v))
    if m:
        return int(m.group(1))
    m = re.match(r"^(\d+)m$", str(v))
    return int(m.group(1)) * 60 if m else 10


def image_env():
    with open(cs.DOCKERFILE) as f:
        runtime = cs.dockerfile_stages(f.read())[-1][2]
    env = {}
    for word, rest in runtime:
        if word == "ENV":
            env.update(kv.split("=", 1) for kv in rest.split() if "=" in kv)
    copies = [rest.split()[-1].rstrip("/") for word, rest in runtime if word == "COPY" and "migrations" in rest]
    return env, (copies[0] if copies else None)


def compose_configs():
    with open(cs.COMPOSE) as f:
        doc = yaml.safe_load(f)
    env = dl.read_env_file(cs.COMPOSE_ENV)
    for k in ("POSTGRES_PASSWORD", "WEBHOOK_SECRETS", "TRACKSTAR_API_KEY", "TOKEN_ENCRYPTION_KEY",
              "ADMIN_TOKEN"):
        env[k] = env.get(k) or "placeholder-" + k.lower()
    svcs = dl.interpolate_tree(doc["services"], env)
    image = env.get("TRACKSTAR_IMAGE", "trackstar-pipeline:local")
    out = []
    for name, s in sorted(svcs.items()):
        if s.get("image") != image:
            continue
        hc = s.get("healthcheck", {}).get("test", [])
        out.append({"label": "compose %s" % name, "cmd": s["command"][0], "args": s["command"][1:],
                    "env": dl.compose_env_dict(s.get("environment")),
                    "healthcheck": hc[1:] if hc and hc[0] == "CMD" else None,
                    "probes": [], "grace": grace_seconds(s.get("stop_grace_period", "10s"))})
    return out


def k8s_configs(name, path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    idx = dl.k8s_index(docs)
    out = []
    for (kind, dname), d in sorted(idx.items()):
        if kind != "Deployment":
            continue
        pod = d["spec"]["template"]["spec"]
        c = pod["containers"][0]
        if not c.get("image", "").startswith("trackstar-pipeline"):
            continue
        env = {}
        for k, (v, src) in dl.k8s_env(c, idx, cs.b64).items():
            env[k] = v if v is not None else ""
        probes = []
        for pk in ("startupProbe", "livenessProbe", "readinessProbe"):
            g = c.get(pk, {}).get("httpGet")
            if g:
                probes.append((pk, g["path"], cs.port_number(c, g["port"])))
        out.append({"label": "k8s %s %s" % (name, dname), "cmd": (c.get("command") or [None])[0],
                    "env": env, "healthcheck": None, "probes": probes,
                    "container_ports": {p["containerPort"]: p.get("name") for p in c.get("ports", [])},
                    "grace": pod.get("terminationGracePeriodSeconds", 30)})
    return out


def run_one(cfg, sub, base_env, bin_dir, helps, workdir):
    label, cmd = cfg["label"], cfg["cmd"]
    # A consumer group of its own per run: runs one after another in one group would
    # each find a rebalance in progress (the previous member's leave).
    sub.group_suffix = ".deploy-test.%d.%s" % (os.getpid(), re.sub(r"\W+", "-", label))
    exe = os.path.join(bin_dir, cmd or "-")
    if not T.check("%s: %s is built" % (label, cmd), os.access(exe, os.X_OK), exe):
        return
    env = dict(base_env)
    env.update(cfg["env"])
    env, notes, problems = sub.apply(env)
    print("        substituted: %s" % ("; ".join(notes) or "nothing"))
    if not T.check("%s: every deployment address is replaced by the stack's" % label, not problems, problems):
        return
    # Ports a probe names by number follow the port they stand for (same value before).
    port_map = {}
    for k in ("ADMIN_PORT", "WEBHOOK_GW_PORT", "SIM_PORT"):
        if k in cfg["env"]:
            port_map[int(cfg["env"][k])] = int(env[k])
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    log_path = os.path.join(workdir, label.replace(" ", "_") + ".log")
    if cfg.get("args") == ["--migrate"]:
        # A one-shot step (writer --migrate): it must finish, exit 0 and say so. The stack's
        # database is migrated already, so it checks every migration and changes nothing.
        with open(log_path, "wb") as log:
            r = subprocess.run([exe, "--migrate"], env=env, cwd=workdir, stdout=log,
                               stderr=subprocess.STDOUT, timeout=READY_TIMEOUT_S)
        T.check("%s: writer --migrate exits 0" % label, r.returncode == 0,
                "exit %s; log: %s" % (r.returncode, tail(log_path)))
        return
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([exe], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        if "ADMIN_PORT" in env:
            ready_url = "http://127.0.0.1:%s/readyz" % env["ADMIN_PORT"]
        else:
            ready_url = "http://127.0.0.1:%s/_sim/health" % env.get("SIM_PORT")
        deadline, status = time.time() + READY_TIMEOUT_S, None
        while time.time() < deadline and proc.poll() is None:
            status = http_status(ready_url)
            if status == 200:
                break
            time.sleep(0.2)
        if not T.check("%s: becomes ready (%s 200)" % (label, ready_url.split("/", 3)[3]), status == 200,
                       "status %s, exit %s; log: %s" % (status, proc.poll(), tail(log_path))):
            return
        if cfg["healthcheck"]:
            r = subprocess.run(cfg["healthcheck"], env=env, capture_output=True, text=True, timeout=10)
            T.check("%s: the compose health check passes" % label, r.returncode == 0,
                    "exit %d: %s" % (r.returncode, r.stderr[-300:]))
        for pk, path, port in cfg["probes"]:
            real = port_map.get(port)
            st = http_status("http://127.0.0.1:%s%s" % (real, path)) if real else None
            T.check("%s: %s GET %s answers 200" % (label, pk, path), st == 200,
                    "port %s (deployment %s): status %s" % (real, port, st))
        if "ADMIN_PORT" in env:
            T.check("%s: /metrics answers 200" % label,
                    http_status("http://127.0.0.1:%s/metrics" % env["ADMIN_PORT"]) == 200, "")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=cfg["grace"])
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = "still running after %ds (killed)" % cfg["grace"]
            T.check("%s: exits 0 on SIGTERM within %ds" % (label, cfg["grace"]), rc == 0,
                    "exit %s; log: %s" % (rc, tail(log_path)))
    with open(log_path, "rb") as f:
        logged = f.read().decode("utf-8", "replace")
    secrets = [v for k, v in env.items() if helps.get(cmd, {}).get(k, {}).get("secret") and len(v or "") >= 8]
    # DATABASE_URL: its password is the secret part.
    secrets += [m for v in secrets for m in re.findall(r"://[^:/@]+:([^@]+)@", v)]
    leaked = [s[:4] + "..." for s in secrets if s in logged]
    T.check("%s: no secret value in its log" % label, not leaked, leaked)


def tail(path):
    with open(path, "rb") as f:
        return f.read()[-LOG_TAIL:].decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--stack-env", required=True)
    ap.add_argument("--help-dir", required=True)
    ap.add_argument("--rendered", action="append", default=[])
    args = ap.parse_args()
    stack = dl.read_env_file(args.stack_env)
    secrets_env = os.path.join(stack.get("STACK_VAR", ""), "secrets.env")
    if os.path.isfile(secrets_env):
        stack.update({k: v for k, v in dl.read_env_file(secrets_env).items() if k not in stack})
    base_env, image_migrations = image_env()
    sub = dl.Substituter(stack, image_migrations, os.path.join(dl.ROOT, "writer", "migrations"),
                         ".deploy-test.%d" % os.getpid())
    helps = dl.load_helps(args.help_dir)
    configs = compose_configs()
    for item in args.rendered:
        name, path = item.split("=", 1)
        # The secure overlay's stages need SASL over TLS, which the dev broker cannot
        # offer: tests/deploy/check_overlays.py checks it, and runs the binaries on its
        # properties file, instead.
        if name != "secure":
            configs += k8s_configs(name, path)
    workdir = tempfile.mkdtemp(prefix="deploy-run-")
    try:
        for cfg in configs:
            run_one(cfg, sub, base_env, os.path.abspath(args.bin_dir), helps, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
