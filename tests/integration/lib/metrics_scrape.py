#!/usr/bin/python3
"""metrics_scrape.py - read a stage's /metrics with the Prometheus client library's own
text parser (Debian's python3-prometheus-client), so that a format error fails here as it
would fail a real scrape.

  metrics_scrape.py check URL STAGE     parse; require build_info, process metrics;
                                        print "N passed, M failed"
  metrics_scrape.py value URL NAME [label=value ...]
                                        print the sample's value (sum over matches), or
                                        "none" when no sample matches
"""
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def families(url):
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        text = r.read().decode("utf-8")
    return {f.name: f for f in text_string_to_metric_families(text)}


def check(url, stage):
    passed = failed = 0

    def ok(name, cond, why=""):
        nonlocal passed, failed
        if cond:
            passed += 1
            print(f"  ok    {stage}: {name}")
        else:
            failed += 1
            print(f"  FAIL  {stage}: {name}: {why}")

    try:
        fams = families(url)
    except Exception as e:  # the parser's error is the finding
        ok("/metrics parses with prometheus_client", False, repr(e))
        print(f"{passed} passed, {failed} failed")
        return 1
    ok("/metrics parses with prometheus_client", True)
    bi = fams.get("trackstar_build_info")
    labels = bi.samples[0].labels if bi and bi.samples else {}
    ok("trackstar_build_info names the stage, version and revision",
       labels.get("stage") == stage and labels.get("version") and labels.get("revision"), labels)
    for name in ("process_cpu_seconds", "process_resident_memory_bytes",
                 "process_start_time_seconds", "process_open_fds"):
        f = fams.get(name)
        ok(f"{name} present", f is not None and f.samples and f.samples[0].value > 0,
           "missing or zero")
    if stage in ("normalizer", "writer", "fetcher", "webhook-gw"):
        ok("librdkafka statistics (kafka_broker_rtt_seconds)",
           "kafka_broker_rtt_seconds" in fams and fams["kafka_broker_rtt_seconds"].samples,
           "no sample")
    if stage in ("normalizer", "writer"):
        ok("consumer lag per partition (kafka_consumer_lag_messages)",
           any("partition" in s.labels for s in fams.get("kafka_consumer_lag_messages",
                                                           type("", (), {"samples": []})).samples),
           "no sample")
    if stage == "webhook-gw":
        f = fams.get("webhook_publish_latency_seconds")
        ok("webhook_publish_latency_seconds is a histogram",
           f is not None and f.type == "histogram"
           and any(s.name.endswith("_bucket") and s.labels.get("le") == "+Inf" for s in f.samples),
           f.type if f else "missing")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def value(url, name, selectors):
    want = dict(s.split("=", 1) for s in selectors)
    total, found = 0.0, False
    for f in families(url).values():
        for s in f.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in want.items()):
                total += s.value
                found = True
    print(f"{total:g}" if found else "none")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    sys.exit(value(sys.argv[2], sys.argv[3], sys.argv[4:]))
