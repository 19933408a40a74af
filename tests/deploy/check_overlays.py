#!/usr/bin/env python3
"""check_overlays.py - what the kustomize overlays promise beyond rendering:

  1. The topic Job's name follows its content: changing any key of the ConfigMap
     trackstar-topics (in the base and in the secure overlay) renames the Job, and
     changing trackstar-config (LOG_LEVEL) leaves the Job exactly as it was.
  2. The secure overlay: every stage mounts its KAFKA_CONFIG_FILE and, from the Secret
     trackstar-kafka-client, every file that file names (${file:...}, the CA); the topic
     Job mounts client.properties and the same Secret for every ${dir:...} and the
     truststore it names; every ScaledObject authenticates through a
     TriggerAuthentication that reads the same Secret. Then a real binary
     (--bin-dir/normalizer) starts on the overlay's properties file with stand-in secret
     files and a test CA, and refuses to start when a secret file is missing.
  3. Every ScaledObject has a fallback.

  check_overlays.py --bin-dir DIR [--rendered NAME=FILE ...]
Prints "N passed, M failed".
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import yaml

import deploylib as dl

T = dl.Tally()
K8S = os.path.join(dl.ROOT, "deploy", "k8s")
SECRET = "trackstar-kafka-client"


def render(path):
    out = subprocess.run(["kubectl", "kustomize", path], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip()[-300:])
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def job_of(docs):
    jobs = [d for d in docs if d["kind"] == "Job"]
    return jobs[0] if len(jobs) == 1 else None


def variant(overlay, cm, literal=None, file_key=None, tmp=None):
    """Render overlay with one ConfigMap key changed, through a throw-away overlay."""
    d = tempfile.mkdtemp(dir=tmp)
    gen = {"name": cm, "behavior": "merge"}
    if literal:
        gen["literals"] = [literal]
    if file_key:
        with open(os.path.join(d, file_key), "w") as f:
            f.write("# changed by check_overlays.py\n")
        gen["files"] = [file_key]
    with open(os.path.join(d, "kustomization.yaml"), "w") as f:
        yaml.safe_dump({"resources": [os.path.relpath(os.path.join(K8S, overlay), d)],
                        "configMapGenerator": [gen]}, f)
    return render(d)


def check_job_names(tmp):
    base_keys = set()
    for overlay in ("base", "overlays/secure"):
        docs = render(os.path.join(K8S, overlay))
        job = job_of(docs)
        T.check("%s: one topic Job" % overlay, job is not None, "")
        if not job:
            continue
        name = job["metadata"]["name"]
        T.check("%s: the Job's name carries its ConfigMap's hash (%s)" % (overlay, name),
                re.match(r"^trackstar-topics-[a-z0-9]{10}$", name) is not None, name)
        T.check("%s: the Job deletes itself after finishing (ttlSecondsAfterFinished)" % overlay,
                job["spec"].get("ttlSecondsAfterFinished", 0) > 0, job["spec"])
        cm = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name)
        # Every key of the base; of the secure overlay only what it adds or changes (each
        # variant is a kustomize run: seconds on a loaded machine).
        keys = {k: v for k, v in cm["data"].items() if overlay == "base" or k not in base_keys
                or k == "KAFKA_BOOTSTRAP"}
        base_keys |= set(cm["data"])

        def changed(key, val):
            if re.match(r"^[A-Z][A-Z0-9_]*$", key):
                new = "1" if val != "1" else "2"
                return job_of(variant(overlay, "trackstar-topics", literal="%s=%s" % (key, new), tmp=tmp))
            return job_of(variant(overlay, "trackstar-topics", file_key=key, tmp=tmp))

        # The variants are independent kustomize runs, mostly waiting for a share of a busy
        # machine's CPU (0.3 s of CPU, 7 s of wall time each in a loaded run): rendered four
        # at a time, checked in the same order as before.
        items = sorted(keys.items())
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            log_level = pool.submit(variant, overlay, "trackstar-config", literal="LOG_LEVEL=debug", tmp=tmp)
            others = list(pool.map(lambda kv: changed(*kv), items))
            for (key, _), other in zip(items, others):
                T.check("%s: changing %s renames the Job" % (overlay, key),
                        other and other["metadata"]["name"] != name, other and other["metadata"]["name"])
            other = job_of(log_level.result())
        T.check("%s: changing LOG_LEVEL leaves the Job as it is (apply keeps working)" % overlay,
                other == job, "the Job changed")


def props(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def mounts_of(pod, container, idx):
    """[(mountPath, kind, name, keys)] of a container's volume mounts."""
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    out = []
    for m in container.get("volumeMounts", []):
        v = vols.get(m["name"], {})
        if "secret" in v:
            src = v["secret"]
            keys = [i["path"] for i in src.get("items", [])]
            out.append((m["mountPath"], "Secret", src["secretName"], keys))
        elif "configMap" in v:
            src = v["configMap"]
            cm = idx.get(("ConfigMap", src["name"]), {})
            keys = [i["path"] for i in src["items"]] if src.get("items") else list(cm.get("data", {}))
            out.append((m["mountPath"], "ConfigMap", src["name"], keys))
    return out


def file_in(path, mounts, kind=None, name=None):
    d, base = os.path.dirname(path), os.path.basename(path)
    return any(mp == d and base in keys and (kind is None or k == kind) and (name is None or n == name)
               for mp, k, n, keys in mounts)


def check_secure(docs, bin_dir, tmp):
    idx = dl.k8s_index(docs)
    w = "secure"
    lib_props = None
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        pod = d["spec"]["template"]["spec"]
        c = pod["containers"][0]
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        path = env.get("KAFKA_CONFIG_FILE")
        mounts = mounts_of(pod, c, idx)
        T.check("%s: %s sets KAFKA_CONFIG_FILE and mounts it from a ConfigMap" % (w, d["metadata"]["name"]),
                path and file_in(path, mounts, "ConfigMap"), (path, mounts))
        if not path:
            continue
        cm = next((idx[("ConfigMap", n)] for mp, k, n, keys in mounts
                   if k == "ConfigMap" and mp == os.path.dirname(path)), {})
        text = cm.get("data", {}).get(os.path.basename(path), "")
        lib_props = text
        p = props(text)
        files = [m.group(1) for v in p.values() for m in [re.match(r"^\$\{file:(.*)\}$", v)] if m]
        files += [p[k] for k in ("ssl.ca.location",) if k in p]
        T.check("%s: %s mounts every file its properties name (%s) from Secret %s" % (
            w, d["metadata"]["name"], ", ".join(os.path.basename(f) for f in files), SECRET),
            files and all(file_in(f, mounts, "Secret", SECRET) for f in files), (files, mounts))
        T.check("%s: %s uses SASL over TLS" % (w, d["metadata"]["name"]),
                p.get("security.protocol", "").upper() == "SASL_SSL" and "sasl.password" in p, p)
    job = job_of(docs)
    if job:
        pod = job["spec"]["template"]["spec"]
        c = pod["containers"][0]
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        mounts = mounts_of(pod, c, idx)
        cc = env.get("KAFKA_COMMAND_CONFIG", "")
        T.check("secure: the topic Job mounts its client.properties (KAFKA_COMMAND_CONFIG)",
                file_in(cc, mounts, "ConfigMap"), (cc, mounts))
        cm = next((idx[("ConfigMap", n)] for mp, k, n, keys in mounts
                   if k == "ConfigMap" and mp == os.path.dirname(cc)), {})
        p = props(cm.get("data", {}).get(os.path.basename(cc), ""))
        refs = re.findall(r"\$\{dir:([^:}]+):([^}]+)\}", " ".join(p.values()))
        refs = [os.path.join(d_, k) for d_, k in refs] + [p.get("ssl.truststore.location", "")]
        T.check("secure: the topic Job mounts every secret its client.properties names (%s)" % ", ".join(
            os.path.basename(r) for r in refs), all(file_in(r, mounts, "Secret", SECRET) for r in refs),
            (refs, mounts))
    auths = {d["metadata"]["name"]: d for d in docs if d["kind"] == "TriggerAuthentication"}
    for so in (d for d in docs if d["kind"] == "ScaledObject"):
        ref = so["spec"]["triggers"][0].get("authenticationRef", {}).get("name")
        ta = auths.get(ref, {})
        params = {r["parameter"]: (r["name"], r["key"]) for r in ta.get("spec", {}).get("secretTargetRef", [])}
        T.check("secure: ScaledObject %s authenticates with %s's sasl, username, password, tls and ca" % (
            so["metadata"]["name"], SECRET),
            {"sasl", "username", "password", "tls", "ca"} <= set(params)
            and all(n == SECRET for n, k in params.values()), (ref, params))
    if lib_props:
        run_binary(lib_props, bin_dir, tmp)


def run_binary(text, bin_dir, tmp):
    """normalizer on the overlay's librdkafka.properties, secrets in a scratch directory."""
    d = tempfile.mkdtemp(dir=tmp)
    sec = os.path.join(d, "kafka-secret")
    os.mkdir(sec)
    for k, v in (("username", "svc-trackstar\n"), ("password", "not-a-real-password\n")):
        with open(os.path.join(sec, k), "w") as f:
            f.write(v)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=test-ca", "-keyout", os.path.join(d, "ca.key"),
                    "-out", os.path.join(sec, "ca.crt")], capture_output=True, check=True)
    path = os.path.join(d, "librdkafka.properties")
    with open(path, "w") as f:
        f.write(text.replace("/etc/trackstar/kafka-secret", sec))

    def start():
        env = {"PATH": os.environ["PATH"], "KAFKA_BOOTSTRAP": "127.0.0.1:%d" % dl.free_port(),
               "KAFKA_CONFIG_FILE": path, "ADMIN_PORT": str(dl.free_port()), "LOG_LEVEL": "info"}
        p = subprocess.Popen([os.path.join(bin_dir, "normalizer")], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        time.sleep(2)
        alive = p.poll() is None
        if alive:
            p.send_signal(signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        return alive, out

    alive, out = start()
    T.check("secure: normalizer starts on the overlay's librdkafka.properties (SASL_SSL, CA, ${file:})",
            alive and "configuration error" not in out, out[-300:])
    os.unlink(os.path.join(sec, "password"))
    alive, out = start()
    T.check("secure: without the mounted password it refuses to start, naming the key, not a value",
            not alive and "sasl.password" in out and "not-a-real-password" not in out, out[-300:])


def check_compose_secure():
    """docker-compose.secure.yml: the same properties as the secure overlay, mounted."""
    d = os.path.join(dl.ROOT, "deploy")
    for name in ("librdkafka.properties", "client.properties"):
        with open(os.path.join(d, "kafka-client", name)) as a, \
                open(os.path.join(K8S, "overlays", "secure", name)) as b:
            T.check("compose secure: kafka-client/%s has the secure overlay's settings" % name,
                    props(a.read()) == props(b.read()), "")
    with open(os.path.join(d, "docker-compose.secure.yml")) as f:
        svcs = yaml.safe_load(f)["services"]
    for stage in dl.STAGES:
        s = svcs.get(stage, {})
        path = s.get("environment", {}).get("KAFKA_CONFIG_FILE", "")
        vols = [v.split(":")[1] for v in s.get("volumes", [])]
        T.check("compose secure: %s reads a mounted KAFKA_CONFIG_FILE and the secret directory" % stage,
                path in vols and "/etc/trackstar/kafka-secret" in vols, (path, vols))
    job = svcs.get("kafka-topics", {})
    vols = [v.split(":")[1] for v in job.get("volumes", [])]
    T.check("compose secure: the topic job reads a mounted KAFKA_COMMAND_CONFIG and the secrets",
            job.get("environment", {}).get("KAFKA_COMMAND_CONFIG") in vols
            and "/etc/trackstar/kafka-secret" in vols, vols)


def check_generated():
    for script, what in (("strimzi_topics.py", "overlays/strimzi/kafkatopics.yaml is what topics.sh makes"),
                         ("prometheusrule.py", "components/monitoring/prometheusrule.yaml is alerts.yaml")):
        out = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), script),
                              "--check"], capture_output=True, text=True)
        T.check("generated: %s" % what, out.returncode == 0, (out.stdout + out.stderr)[-300:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--rendered", action="append", default=[])
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="check-overlays-")
    try:
        check_job_names(tmp)
        check_generated()
        check_compose_secure()
        for item in args.rendered:
            name, path = item.split("=", 1)
            with open(path) as f:
                docs = [d for d in yaml.safe_load_all(f) if d]
            for so in (d for d in docs if d["kind"] == "ScaledObject"):
                fb = so["spec"].get("fallback", {})
                T.check("%s: ScaledObject %s has a fallback" % (name, so["metadata"]["name"]),
                        fb.get("failureThreshold", 0) > 0 and fb.get("replicas", 0) > 0, fb)
            if name == "secure":
                check_secure(docs, os.path.abspath(args.bin_dir), tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
