#!/usr/bin/env python3
"""check_static.py - checks the deployment files against the project itself, without
running the stages: the image (deploy/Dockerfile), docker-compose, the rendered
Kubernetes overlays and the topic job (run on a stand-in Kafka CLI, fake_kafka.py).

  check_static.py --help-dir DIR --bin-dir DIR --topics FILE [--rendered NAME=FILE ...]

DIR holds <binary>.help (each binary's --help output); FILE lists topic_all, one per
line. Prints ok/FAIL lines and ends with "N passed, M failed".
"""
import argparse
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib as dl  # noqa: E402

DEPLOY = os.path.join(dl.ROOT, "deploy")
COMPOSE = os.path.join(DEPLOY, "docker-compose.yml")
COMPOSE_ENV = os.path.join(DEPLOY, "compose.env.example")
DOCKERFILE = os.path.join(DEPLOY, "Dockerfile")
TOPICS_SH = os.path.join(DEPLOY, "k8s", "base", "core", "topics.sh")
FAKE_KAFKA_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake-kafka-bin")
# The C library is part of every Debian image; every other library must be installed.
BASE_IMAGE_PACKAGES = {"libc6"}
MIN_GRACE_S = 15  # binaries flush for up to 10 s on SIGTERM
SECRET_PATTERNS = (re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"), re.compile(r"://[^/:@\s]+:[^/@\s]+@"))

T = dl.Tally()


# ---- the image -------------------------------------------------------------------------

def dockerfile_stages(text):
    """[(base image, alias, [instructions])] with continuation lines joined."""
    lines, cur = [], ""
    for raw in text.splitlines():
        s = raw.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if s.startswith("#"):
            continue
        cur += " " + s[:-1] if s.endswith("\\") else " " + s
        if not s.endswith("\\"):
            lines.append(cur.strip())
            cur = ""
    args = {}
    stages = []
    for ln in lines:
        word, _, rest = ln.partition(" ")
        word = word.upper()
        if word == "ARG" and not stages:
            k, _, v = rest.partition("=")
            args[k] = v
        elif word == "FROM":
            image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), rest.split()[0])
            alias = rest.split()[2] if len(rest.split()) > 2 else ""
            stages.append((image, alias, []))
        elif stages:
            stages[-1][2].append((word, rest))
    return stages


def apt_packages(instructions):
    pk = set()
    for word, rest in instructions:
        if word == "RUN" and "apt-get install" in rest:
            seg = rest.split("apt-get install", 1)[1].split("&&")[0]
            pk |= {w for w in seg.split() if not w.startswith("-") and w != "\\"}
    return pk


def dpkg_owners(paths):
    """{path: package} for each of paths some installed package holds, in one `dpkg -S`:
    each call reads the whole package database (about 3 s on a busy machine), and one
    call per library and binary was a minute and a half of test_deploy."""
    if not paths:
        return {}
    r = subprocess.run(["dpkg", "-S"] + sorted(paths), capture_output=True, text=True)
    owners = {}
    for line in r.stdout.splitlines():
        if line.startswith("diversion "):
            continue
        pkgs, sep, path = line.rpartition(": ")
        if sep and path in paths and path not in owners:
            owners[path] = pkgs.split(":")[0]
    return owners


def needed_packages(bin_dir):
    """{package: [binary, ...]} of the shared libraries each binary links directly."""
    links = []
    for b in sorted(os.listdir(bin_dir)):
        path = os.path.join(bin_dir, b)
        if not os.access(path, os.X_OK) or os.path.isdir(path):
            continue
        needed = re.findall(r"\(NEEDED\).*\[(.+?)\]", subprocess.run(
            ["readelf", "-d", path], capture_output=True, text=True).stdout)
        resolved = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(
            ["ldd", path], capture_output=True, text=True).stdout, re.M))
        for lib in needed:
            # A SANITIZE=1 build links the sanitizer runtimes; the image is a release build.
            if re.match(r"lib[alut]san\.so|libubsan\.so", lib):
                continue
            real = os.path.realpath(resolved.get(lib, lib))
            links.append((b, lib, (real, real.replace("/usr/lib/", "/lib/", 1))))
    owners = dpkg_owners({c for _, _, cands in links for c in cands})
    out = {}
    for b, lib, cands in links:
        pkg = next((owners[c] for c in cands if c in owners), None)
        out.setdefault(pkg or "?" + lib, []).append(b)
    return out


def check_image(bin_dir, programs):
    with open(DOCKERFILE) as f:
        stages = dockerfile_stages(f.read())
    T.check("image: multi-stage build (build, runtime)", len(stages) >= 2, "%d stages" % len(stages))
    if len(stages) < 2:
        return None
    T.check("image: every stage is Debian 12 (bookworm)",
            all("bookworm" in img for img, _, _ in stages), [img for img, _, _ in stages])
    build, runtime = stages[0][2], stages[-1][2]
    build_pk, run_pk = apt_packages(build), apt_packages(runtime)
    T.check("image: the runtime stage installs no compiler or -dev package",
            not any(p.endswith("-dev") or p in ("gcc", "make", "clang") for p in run_pk), sorted(run_pk))
    need = needed_packages(bin_dir)
    missing = {p: b for p, b in need.items() if p not in run_pk and p not in BASE_IMAGE_PACKAGES}
    T.check("image: the runtime packages provide every shared library the binaries link (%s)"
            % ", ".join(sorted(need)), not missing, "not installed: %s" % missing)
    with open(os.path.join(DEPLOY, "stack", "install-deps.sh")) as f:
        dev = set(re.findall(r"\b(lib[a-z0-9.+-]+-dev)\b", f.read())) - {"libclang-rt-14-dev"}
    T.check("image: the build stage installs every -dev package the project builds with",
            dev <= build_pk, "missing: %s" % sorted(dev - build_pk))
    users = [rest for w, rest in runtime if w == "USER"]
    T.check("image: runs as a numeric non-root user",
            bool(users) and re.match(r"^[1-9][0-9]*(:[0-9]+)?$", users[-1].strip()) is not None, users)
    copies = [rest for w, rest in runtime if w == "COPY"]
    T.check("image: copies every binary the Makefile builds (bin/)",
            any(re.search(r"--from=\S+ /src/bin/? /usr/local/bin/?", c) for c in copies), copies)
    mig = [c.split()[-1].rstrip("/") for c in copies if "writer/migrations" in c]
    T.check("image: copies writer/migrations", bool(mig), copies)
    env = " ".join(rest for w, rest in runtime if w == "ENV")
    T.check("image: ADMIN_BIND=0.0.0.0 (probes reach the admin port from outside the container)",
            "ADMIN_BIND=0.0.0.0" in env, env)
    with open(os.path.join(dl.ROOT, ".dockerignore")) as f:
        ignore = f.read().split()
    T.check(".dockerignore keeps build output and the local stack's data (secrets) out of the image",
            all(p in ignore for p in ("bin/", "build/", "var/", ".git")), ignore)
    image_env = dict(kv.split("=", 1) for kv in env.split() if "=" in kv)
    return {"migrations": mig[0] if mig else None, "env": image_env}


# ---- docker-compose ---------------------------------------------------------------------

def check_compose(helps, programs, topics, image_info):
    with open(COMPOSE) as f:
        text = f.read()
    doc = yaml.safe_load(text)
    example = dl.read_env_file(COMPOSE_ENV)
    used = dl.compose_vars(text)
    T.check("compose: every variable it reads is in compose.env.example",
            used <= set(example), "undocumented: %s" % sorted(used - set(example)))
    T.check("compose: compose.env.example has no variable the compose file does not read",
            set(example) <= used, "unused: %s" % sorted(set(example) - used))
    with open(COMPOSE_ENV) as f:
        lines = f.read().splitlines()
    undocumented = [ln.split("=")[0] for i, ln in enumerate(lines)
                    if re.match(r"^[A-Z_]+=", ln) and not (i and (lines[i - 1].startswith("#")
                                                                   or re.match(r"^[A-Z_]+=", lines[i - 1])))]
    T.check("compose: every variable in compose.env.example has a comment", not undocumented, undocumented)

    # Interpolate as compose would, with the example's values and dummy secrets.
    env = dict(example)
    for k in ("POSTGRES_PASSWORD", "WEBHOOK_SECRETS", "TRACKSTAR_API_KEY", "TOKEN_ENCRYPTION_KEY",
              "ADMIN_TOKEN"):
        env[k] = env.get(k) or "dummy-" + k.lower()
    try:
        svc = dl.interpolate_tree(doc["services"], env)
    except ValueError as e:
        T.fail("compose: interpolates with compose.env.example", str(e))
        return
    T.ok("compose: interpolates with compose.env.example")
    missing = {}
    try:
        dl.interpolate_tree(doc["services"], {})
    except ValueError as e:
        missing = str(e)
    T.check("compose: refuses to start without its secrets (${VAR:?...})", bool(missing), "no required variable")

    image = env.get("TRACKSTAR_IMAGE", "trackstar-pipeline:local")
    ours = {n: s for n, s in svc.items() if s.get("image") == image}
    cmds = {n: (s.get("command") or [None])[0] for n, s in ours.items()}
    for stage in dl.STAGES:
        T.check("compose: service %s runs %s" % (stage, stage), cmds.get(stage) == stage, cmds.get(stage))
    for name, s in sorted(ours.items()):
        cmd = cmds[name]
        T.check("compose: %s: command %s is a binary the Makefile builds" % (name, cmd),
                cmd in programs and os.access(os.path.join(ARGS.bin_dir, cmd or "-"), os.X_OK),
                "Makefile PROGRAMS: %s" % sorted(programs))
        senv = dl.compose_env_dict(s.get("environment"))
        known = helps.get(cmd, {})
        unknown = sorted(set(senv) - set(known))
        T.check("compose: %s: every variable it sets is one %s reads (--help)" % (name, cmd),
                known and not unknown, "not read: %s" % unknown if known else "no --help output")
        # writer --migrate talks to the database only: the Kafka keys' defaults do.
        migrate_job = (s.get("command") or [])[1:] == ["--migrate"]
        req = sorted(k for k, v in known.items() if v["required"] and not senv.get(k)
                     and not (migrate_job and k.startswith("KAFKA_")))
        T.check("compose: %s: sets every required variable" % name, not req, req)
        raw_env = dl.compose_env_dict(doc["services"][name].get("environment"))
        plain = sorted(k for k, v in known.items() if v["secret"] and raw_env.get(k)
                       and "${" not in raw_env[k])
        T.check("compose: %s: secrets come from the env file, not the compose file" % name, not plain, plain)
        if cmd in dl.STAGES and not migrate_job:
            hc = s.get("healthcheck", {}).get("test", [])
            T.check("compose: %s: health check asks /readyz on its ADMIN_PORT" % name,
                    "/readyz" in " ".join(hc) and "$ADMIN_PORT" in " ".join(hc) and "ADMIN_PORT" in senv, hc)
            T.check("compose: %s: ADMIN_BIND=0.0.0.0" % name, senv.get("ADMIN_BIND") == "0.0.0.0",
                    senv.get("ADMIN_BIND"))
            dep = s.get("depends_on", {})
            T.check("compose: %s: starts after the topic job succeeded" % name,
                    dep.get("kafka-topics", {}).get("condition") == "service_completed_successfully", dep)
            if "DATABASE_URL" in senv:
                T.check("compose: %s: starts after PostgreSQL is healthy" % name,
                        dep.get("postgres", {}).get("condition") == "service_healthy", dep)
                T.check("compose: %s: starts after the migrations succeeded (writer --migrate)" % name,
                        dep.get("migrate", {}).get("condition") == "service_completed_successfully"
                        and ours.get("migrate", {}).get("command") == ["writer", "--migrate"], dep)
            g = s.get("stop_grace_period", "0s")
            T.check("compose: %s: stop_grace_period >= %ds" % (name, MIN_GRACE_S),
                    int(re.sub(r"s$", "", g)) >= MIN_GRACE_S, g)
        if senv.get("WRITER_MIGRATIONS_DIR") and image_info:
            T.check("compose: %s: WRITER_MIGRATIONS_DIR is where the image puts them" % name,
                    senv["WRITER_MIGRATIONS_DIR"] == image_info["migrations"], senv["WRITER_MIGRATIONS_DIR"])
    sim = [n for n, c in cmds.items() if c == "trackstar-sim"]
    T.check("compose: the simulator runs only with --profile simulator",
            bool(sim) and all(ours[n].get("profiles") == ["simulator"] for n in sim), sim)
    T.check("compose: Kafka is Apache Kafka in KRaft mode",
            svc["kafka"]["image"].startswith("apache/kafka:")
            and "controller" in dl.compose_env_dict(svc["kafka"]["environment"]).get("KAFKA_PROCESS_ROLES", ""),
            svc["kafka"].get("image"))
    T.check("compose: PostgreSQL service with a health check",
            "postgres" in svc and "healthcheck" in svc["postgres"], "")
    job = svc.get("kafka-topics", {})
    mounts = [v.split(":") for v in job.get("volumes", [])]
    script = [os.path.normpath(os.path.join(DEPLOY, m[0])) for m in mounts if m[0].endswith("topics.sh")]
    T.check("compose: the topic job mounts deploy/k8s/base/core/topics.sh",
            script == [TOPICS_SH], script)
    run_topic_job("compose", TOPICS_SH, dl.compose_env_dict(job.get("environment")), topics)


# ---- the topic job ----------------------------------------------------------------------

TOPIC_JOB_RUNS = {}  # (script text, env) -> what two runs of it gave


def topic_job_runs(script, env):
    """Two runs of the job's script with env on the stand-in Kafka CLI: (first run,
    second run, the topics the first made). The same script with the same environment
    gives the same result, so each distinct pair runs once: the overlays mostly deploy the
    base's job unchanged, and each run is ~100 calls of the stand-in CLI (20 s here)."""
    with open(script) as f:
        key = (f.read(), tuple(sorted(env.items())))
    if key in TOPIC_JOB_RUNS:
        return TOPIC_JOB_RUNS[key]
    state = tempfile.mkdtemp(prefix="fake-kafka-")
    try:
        penv = dict(env)
        penv.update({"PATH": os.environ["PATH"], "KAFKA_BIN": FAKE_KAFKA_BIN, "FAKE_KAFKA_STATE": state,
                     "TOPIC_WAIT_SECONDS": "4"})
        r = subprocess.run(["sh", script], env=penv, capture_output=True, text=True, timeout=120)
        made, r2 = {}, None
        if r.returncode == 0:
            for f in os.listdir(state):
                if f.startswith("topic."):
                    with open(os.path.join(state, f)) as fh:
                        made[f[len("topic."):-len(".json")]] = yaml.safe_load(fh)
            # Run again: an existing topic is fine (the job is re-run on every deploy).
            r2 = subprocess.run(["sh", script], env=penv, capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    TOPIC_JOB_RUNS[key] = (r, r2, made)
    return TOPIC_JOB_RUNS[key]


def run_topic_job(where, script, env, topics):
    """Run the job's script with the job's environment on the stand-in Kafka CLI and
    check the topics it made against topic_all."""
    r, r2, made = topic_job_runs(script, env)
    if not T.check("%s: the topic job succeeds" % where, r.returncode == 0, (r.stdout + r.stderr)[-800:]):
        return
    prefix = env.get("KAFKA_TOPIC_PREFIX", "")
    want = {prefix + t for t in topics}
    T.check("%s: the topic job creates every topic of topic_all (%d)" % (where, len(want)),
            want <= set(made), "missing: %s" % sorted(want - set(made)))
    T.check("%s: the topic job creates no topic outside topic_all" % where,
            set(made) <= want, sorted(set(made) - want))
    pub = {t: m for t, m in made.items() if t.startswith(prefix + "wms.")}
    T.check("%s: every public wms.* topic is compacted" % where,
            pub and all(m["configs"].get("cleanup.policy") == "compact" for m in pub.values()),
            {t: m["configs"].get("cleanup.policy") for t, m in pub.items()})
    raw = made.get(prefix + "trackstar.raw.v1", {"configs": {}})["configs"]
    ret = int(raw.get("retention.ms", "0"))
    T.check("%s: the raw topic is a long-retention log (delete policy, >= 30 days or forever)" % where,
            raw.get("cleanup.policy") == "delete" and (ret == -1 or ret >= 30 * 86400000), raw)
    bad = {t: (m["replication"], m["configs"].get("min.insync.replicas")) for t, m in made.items()
           if int(m["configs"].get("min.insync.replicas", "1")) > m["replication"]}
    T.check("%s: min.insync.replicas <= replication on every topic" % where, not bad, bad)
    parts = {m["partitions"] for t, m in made.items() if t != prefix + "trackstar.fetcher-assignments.v1"}
    T.check("%s: data topics share one partition count (%s)" % (where, sorted(parts)), len(parts) == 1, parts)
    T.check("%s: the topic job is idempotent (second run succeeds)" % where, r2.returncode == 0,
            (r2.stdout + r2.stderr)[-500:])


# ---- Kubernetes -------------------------------------------------------------------------

def b64(v):
    return base64.b64decode(v).decode()


def port_number(container, port):
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    return None


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


# Ports a stage may open without naming a destination (the base cannot know where
# Kafka, PostgreSQL and Trackstar live): DNS, Kafka, then per stage.
EGRESS_PORTS = {"webhook-gw": {53, 9092, 443}, "fetcher": {53, 9092, 5432, 443},
                "normalizer": {53, 9092}, "writer": {53, 9092, 5432}}
INGRESS_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"


def rule_ports(rule):
    return {int(p["port"]) for p in rule.get("ports", []) if str(p.get("port", "")).isdigit()}


def rule_namespaces(rule):
    """The namespaces a rule's peers name, or None when any peer is not a namespace
    selector (a pod or ipBlock peer), or "all" when the rule has no peers at all."""
    peers = rule.get("from", rule.get("to"))
    if not peers:
        return "all"
    names = set()
    for p in peers:
        ns = p.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
        if not ns or "podSelector" in p or "ipBlock" in p:
            return None
        names.add(ns)
    return names


def check_network_policies(where, stage, labels, idx, admin, gw_port):
    """Traffic to and from a stage's pods: a policy with both types selects them; the
    admin port is open to the monitoring namespace only, the webhook port to the
    ingress controller's only; egress without a named destination only to the stage's
    ports."""
    pols = [o for (k, n), o in idx.items() if k == "NetworkPolicy"
            and selects(o["spec"]["podSelector"].get("matchLabels"), labels)]
    T.check("%s: a NetworkPolicy with Ingress and Egress selects its pods" % where,
            any({"Ingress", "Egress"} <= set(p["spec"].get("policyTypes", [])) for p in pols),
            [p["metadata"]["name"] for p in pols])
    ingress = [r for p in pols for r in p["spec"].get("ingress", [])]
    open_all = [r for r in ingress if rule_namespaces(r) == "all" or not r.get("ports")]
    T.check("%s: no ingress rule open to every source or every port" % where, not open_all, open_all)
    admin_from = [rule_namespaces(r) for r in ingress if admin in rule_ports(r)]
    T.check("%s: admin port %d reachable from the %s namespace only" % (where, admin, MONITORING_NAMESPACE),
            admin_from and all(f == {MONITORING_NAMESPACE} for f in admin_from), admin_from)
    if gw_port:
        gw_from = [rule_namespaces(r) for r in ingress if gw_port in rule_ports(r)]
        T.check("%s: webhook port %d reachable from the %s namespace only" % (where, gw_port, INGRESS_NAMESPACE),
                gw_from and all(f == {INGRESS_NAMESPACE} for f in gw_from), gw_from)
    egress = [r for p in pols for r in p["spec"].get("egress", [])]
    anywhere = set().union(*[rule_ports(r) for r in egress if not r.get("to")]) if egress else set()
    portless = [r for r in egress if not r.get("ports")]
    T.check("%s: egress only to DNS, Kafka%s" % (where, "".join(
        {5432: ", PostgreSQL", 443: ", Trackstar (443)"}.get(x, "") for x in sorted(EGRESS_PORTS[stage]))),
            egress and not portless and anywhere <= EGRESS_PORTS[stage],
            "ports %s, rules without ports %d" % (sorted(anywhere - EGRESS_PORTS[stage]), len(portless)))


def check_k8s(name, path, helps, programs, topics, image_info):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    idx = dl.k8s_index(docs)
    where = "k8s %s" % name
    deps = {n: d for (k, n), d in idx.items() if k == "Deployment"}
    secrets = {n: d for (k, n), d in idx.items() if k == "Secret"}
    cms = {n: d for (k, n), d in idx.items() if k == "ConfigMap"}
    if name in ("base", "keda"):
        T.check("%s: contains no Secret (values come from the cluster)" % where, not secrets, sorted(secrets))
    secret_values = {v for s in secrets.values() for v in map(b64, s.get("data", {}).values()) if len(v) >= 8}
    hpas = {d["spec"]["scaleTargetRef"]["name"]: d for (k, n), d in idx.items() if k == "HorizontalPodAutoscaler"}
    scaled = {d["spec"]["scaleTargetRef"]["name"]: d for (k, n), d in idx.items() if k == "ScaledObject"}
    cfg = {k: v for n, c in cms.items() if n.startswith(("trackstar-config", "trackstar-topics"))
           for k, v in c.get("data", {}).items()}

    for stage in dl.STAGES:
        T.check("%s: Deployment %s exists" % (where, stage), stage in deps, sorted(deps))
    for dname, d in sorted(deps.items()):
        pod = d["spec"]["template"]["spec"]
        c = pod["containers"][0]
        cmd = (c.get("command") or [None])[0]
        if not c.get("image", "").startswith("trackstar-pipeline"):
            continue
        w = "%s: %s" % (where, dname)
        T.check("%s: command %s is a binary the Makefile builds" % (w, cmd),
                cmd in programs and os.access(os.path.join(ARGS.bin_dir, cmd or "-"), os.X_OK), cmd)
        known = helps.get(cmd, {})
        env = dl.k8s_env(c, idx, b64)
        unknown = sorted(set(env) - set(known))
        T.check("%s: every variable it sets is one %s reads (--help)" % (w, cmd),
                known and not unknown, "not read: %s" % unknown if known else "no --help output")
        req = sorted(k for k, v in known.items() if v["required"] and k not in env)
        T.check("%s: sets every required variable" % w, not req, req)
        notsecret = sorted(k for k, (v, src) in env.items() if known.get(k, {}).get("secret") and src != "secret")
        T.check("%s: every secret variable comes from a secretKeyRef" % w, not notsecret, notsecret)
        plain = sorted(e["name"] for e in c.get("env", []) if "value" in e and (
            str(e["value"]) in secret_values or any(p.search(str(e["value"])) for p in SECRET_PATTERNS)))
        T.check("%s: no secret value in plain text in its env" % w, not plain, plain)
        if secrets:
            dangling = sorted(e["name"] for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})
                              and not e["valueFrom"]["secretKeyRef"].get("optional")
                              and env[e["name"]][0] is None)
            T.check("%s: every secretKeyRef names a Secret and key of the overlay" % w, not dangling, dangling)
        cm_dangling = sorted(k for k, (v, src) in env.items() if src == "configmap" and v is None)
        T.check("%s: every configMapKeyRef names a ConfigMap key" % w, not cm_dangling, cm_dangling)
        res = c.get("resources", {})
        T.check("%s: resource requests (cpu, memory) and memory limit set" % w,
                {"cpu", "memory"} <= set(res.get("requests", {})) and "memory" in res.get("limits", {}), res)
        sc, psc = c.get("securityContext", {}), pod.get("securityContext", {})
        T.check("%s: runs as non-root with a read-only root filesystem" % w,
                psc.get("runAsNonRoot") is True and sc.get("readOnlyRootFilesystem") is True
                and sc.get("allowPrivilegeEscalation") is False, (psc, sc))
        if cmd == "trackstar-sim":
            continue
        admin = int(env.get("ADMIN_PORT", ("0", ""))[0] or 0)
        T.check("%s: ADMIN_BIND=0.0.0.0 so the kubelet reaches the admin port" % w,
                env.get("ADMIN_BIND", (None,))[0] == "0.0.0.0", env.get("ADMIN_BIND"))
        for kind, path_want in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            p = c.get(kind, {}).get("httpGet", {})
            T.check("%s: %s GET %s on the admin port (ADMIN_PORT=%d)" % (w, kind, path_want, admin),
                    p.get("path") == path_want and admin and port_number(c, p.get("port")) == admin, p)
        sp = c.get("startupProbe", {}).get("httpGet")
        if sp:
            T.check("%s: startupProbe on a real admin path" % w,
                    sp.get("path") in ("/healthz", "/readyz") and port_number(c, sp.get("port")) == admin, sp)
        g = pod.get("terminationGracePeriodSeconds", 30)
        T.check("%s: terminationGracePeriodSeconds >= %d" % (w, MIN_GRACE_S), g >= MIN_GRACE_S, g)
        labels = d["spec"]["template"]["metadata"].get("labels", {})
        if cmd in EGRESS_PORTS:
            check_network_policies(w, cmd, labels, idx, admin,
                                   int(env.get("WEBHOOK_GW_PORT", ("0",))[0] or 0) if cmd == "webhook-gw" else 0)
        pdbs = [n for (k, n), o in idx.items() if k == "PodDisruptionBudget"
                and selects(o["spec"]["selector"].get("matchLabels"), labels)]
        T.check("%s: a PodDisruptionBudget covers its pods" % w, len(pdbs) == 1, pdbs)
        owners = (["HPA"] if dname in hpas else []) + (["ScaledObject"] if dname in scaled else [])
        T.check("%s: exactly one autoscaler (HPA or KEDA ScaledObject)" % w, len(owners) == 1, owners)
        limit_key = "TOPIC_FETCH_ASSIGN_PARTITIONS" if cmd == "fetcher" else "TOPIC_PARTITIONS"
        if cmd != "webhook-gw" and owners and cfg.get(limit_key):
            mx = hpas[dname]["spec"]["maxReplicas"] if dname in hpas else scaled[dname]["spec"]["maxReplicaCount"]
            T.check("%s: max replicas (%d) <= %s (%s): no idle consumer" % (w, mx, limit_key, cfg[limit_key]),
                    mx <= int(cfg[limit_key]), "")
        if dname in scaled:
            trig = scaled[dname]["spec"]["triggers"][0]["metadata"]
            refs = [v for k, v in trig.items() if k.endswith("FromEnv")]
            T.check("%s: the ScaledObject's *FromEnv variables are set in the container" % w,
                    refs and all(r in env for r in refs), refs)
        if cmd == "writer":
            inits = [i for i in pod.get("initContainers", []) if i.get("command") == ["writer", "--migrate"]]
            T.check("%s: an init container runs writer --migrate first" % w, len(inits) == 1, inits)
            if inits:
                ienv = dl.k8s_env(inits[0], idx, b64)
                T.check("%s: the migration uses its own database role (a Secret key of its own)" % w,
                        ienv.get("DATABASE_URL", (None, ""))[1] == "secret"
                        and inits[0]["env"][0]["valueFrom"]["secretKeyRef"]["key"]
                        != c["env"][[e["name"] for e in c["env"]].index("DATABASE_URL")]["valueFrom"]["secretKeyRef"]["key"],
                        inits[0].get("env"))
                T.check("%s: every variable of the migration is one writer reads (--help)" % w,
                        set(ienv) <= set(known), sorted(set(ienv) - set(known)))
        if env.get("WRITER_MIGRATIONS_DIR") and image_info:
            T.check("%s: WRITER_MIGRATIONS_DIR is where the image puts them" % w,
                    env["WRITER_MIGRATIONS_DIR"][0] == image_info["migrations"], env["WRITER_MIGRATIONS_DIR"])
        if cmd == "webhook-gw":
            gw_port = int(env.get("WEBHOOK_GW_PORT", ("0",))[0] or 0)
            svcs = [o for (k, n), o in idx.items() if k == "Service" and selects(o["spec"].get("selector"), labels)]
            ok = bool(svcs) and all(port_number(c, p.get("targetPort")) == gw_port for p in svcs[0]["spec"]["ports"])
            T.check("%s: a Service sends to the webhook port (WEBHOOK_GW_PORT=%d)" % (w, gw_port), ok,
                    [s["spec"]["ports"] for s in svcs])
            ings = [o for (k, n), o in idx.items() if k == "Ingress"]
            gw_path = env.get("WEBHOOK_GW_PATH", (helps["webhook-gw"].get("WEBHOOK_GW_PATH", {}).get("default"),))[0]
            paths = [(p["path"], p["backend"]["service"]["name"]) for i in ings for r in i["spec"]["rules"]
                     for p in r["http"]["paths"]]
            T.check("%s: an Ingress routes %s to that Service" % (w, gw_path),
                    bool(svcs) and (gw_path, svcs[0]["metadata"]["name"]) in paths, paths)
    for cname, cmap in cms.items():
        bad = sorted(k for k, v in cmap.get("data", {}).items()
                     if any(helps.get(b, {}).get(k, {}).get("secret") and v for b in helps)
                     or v in secret_values or any(p.search(v) for p in SECRET_PATTERNS if k != "topics.sh"))
        T.check("%s: ConfigMap %s holds no secret" % (where, cname), not bad, bad)
    jobs = [o for (k, n), o in idx.items() if k == "Job"]
    kts = sorted(o["spec"]["topicName"] for (k, n), o in idx.items() if k == "KafkaTopic")
    if kts:  # overlays/strimzi: KafkaTopic resources instead of the Job
        T.check("%s: a KafkaTopic for every topic of common/topics.c, and no topic Job" % where,
                kts == sorted(topics) and not jobs, (kts, [j["metadata"]["name"] for j in jobs]))
        jobs = None
    else:
        T.check("%s: the topic Job exists" % where, len(jobs) == 1, [j["metadata"]["name"] for j in jobs])
    if jobs:
        pod = jobs[0]["spec"]["template"]["spec"]
        vols = {v["name"]: v for v in pod.get("volumes", [])}
        script_cm = [idx.get(("ConfigMap", v["configMap"]["name"])) for v in vols.values() if "configMap" in v]
        script = next((c["data"]["topics.sh"] for c in script_cm if c and "topics.sh" in c.get("data", {})), None)
        with open(TOPICS_SH) as f:
            T.check("%s: the Job runs deploy/k8s/base/core/topics.sh (same content)" % where, script == f.read(), "")
        if script:
            with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as tf:
                tf.write(script)
            try:
                env = {k: v for k, (v, src) in dl.k8s_env(pod["containers"][0], idx, b64).items() if v is not None}
                run_topic_job(where, tf.name, env, topics)
            finally:
                os.unlink(tf.name)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--help-dir", required=True)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--topics", required=True)
    ap.add_argument("--rendered", action="append", default=[])
    ARGS = ap.parse_args()
    helps = dl.load_helps(ARGS.help_dir)
    programs = dl.makefile_programs()
    with open(ARGS.topics) as f:
        topics = [t.strip() for t in f if t.strip()]
    image_info = check_image(ARGS.bin_dir, programs)
    check_compose(helps, programs, topics, image_info)
    for item in ARGS.rendered:
        name, path = item.split("=", 1)
        check_k8s(name, path, helps, programs, topics, image_info)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
