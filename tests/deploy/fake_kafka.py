#!/usr/bin/env python3
"""fake_kafka.py - a stand-in for Apache Kafka's kafka-topics.sh and kafka-configs.sh,
so that deploy/k8s/base/topics.sh (the topic job) runs its real code path in tests
without a Java broker. It keeps topics as JSON files in $FAKE_KAFKA_STATE, accepts
only the options and topic-level config names the real tools accept, and appends
every invocation to $FAKE_KAFKA_STATE/calls.log.

  fake_kafka.py topics  <kafka-topics.sh arguments>
  fake_kafka.py configs <kafka-configs.sh arguments>
"""
import json
import os
import sys

# Topic-level configuration names of Apache Kafka 3.x (kafka.apache.org/documentation
# #topicconfigs). A misspelt name is an error, as on a real broker.
TOPIC_CONFIGS = {
    "cleanup.policy", "compression.type", "delete.retention.ms", "file.delete.delay.ms",
    "flush.messages", "flush.ms", "follower.replication.throttled.replicas",
    "index.interval.bytes", "leader.replication.throttled.replicas", "local.retention.bytes",
    "local.retention.ms", "max.compaction.lag.ms", "max.message.bytes",
    "message.downconversion.enable", "message.format.version", "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms", "message.timestamp.difference.max.ms",
    "message.timestamp.type", "min.cleanable.dirty.ratio", "min.compaction.lag.ms",
    "min.insync.replicas", "preallocate", "remote.storage.enable", "retention.bytes",
    "retention.ms", "segment.bytes", "segment.index.bytes", "segment.jitter.ms", "segment.ms",
    "unclean.leader.election.enable",
}
FLAGS = {"--create", "--if-not-exists", "--list", "--describe", "--alter"}
VALUED = {"--bootstrap-server", "--command-config", "--topic", "--partitions",
          "--replication-factor", "--config", "--entity-type", "--entity-name", "--add-config"}


def die(msg):
    print("fake-kafka: " + msg, file=sys.stderr)
    sys.exit(1)


def parse(args):
    opts, multi = {}, {"--config": []}
    i = 0
    while i < len(args):
        a = args[i]
        if a in FLAGS:
            opts[a] = True
            i += 1
        elif a in VALUED:
            if i + 1 >= len(args):
                die("option %s needs a value" % a)
            if a == "--config":
                multi[a].append(args[i + 1])
            elif a in opts:
                die("option %s given twice" % a)
            else:
                opts[a] = args[i + 1]
            i += 2
        else:
            die("unknown argument %r" % a)
    opts["--config"] = multi["--config"]
    if "--bootstrap-server" not in opts:
        die("--bootstrap-server is required")
    cc = opts.get("--command-config")
    if cc is not None and not os.path.isfile(cc):
        die("--command-config %s: no such file" % cc)
    return opts


def kv_pairs(items):
    out = {}
    for item in items:
        if "=" not in item:
            die("config %r is not key=value" % item)
        k, v = item.split("=", 1)
        if k not in TOPIC_CONFIGS:
            die("unknown topic config %r" % k)
        out[k] = v
    return out


def path_of(state, name):
    if not name or "/" in name or name.startswith("."):
        die("bad topic name %r" % name)
    return os.path.join(state, "topic." + name + ".json")


def load(state, name):
    p = path_of(state, name)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return json.load(f)


def save(state, name, topic):
    with open(path_of(state, name), "w") as f:
        json.dump(topic, f, sort_keys=True)


def topics_cmd(state, o):
    name = o.get("--topic")
    if o.get("--list"):
        for f in sorted(os.listdir(state)):
            if f.startswith("topic.") and f.endswith(".json"):
                print(f[len("topic."):-len(".json")])
    elif o.get("--create"):
        for req in ("--topic", "--partitions", "--replication-factor"):
            if req not in o:
                die("--create needs %s" % req)
        parts, rf = int(o["--partitions"]), int(o["--replication-factor"])
        if parts < 1 or rf < 1:
            die("partitions and replication factor must be positive")
        configs = kv_pairs(o["--config"])
        if load(state, name) is not None:
            if o.get("--if-not-exists"):
                return
            die("Topic '%s' already exists." % name)
        save(state, name, {"partitions": parts, "replication": rf, "configs": configs})
        print("Created topic %s." % name)
    elif o.get("--describe"):
        t = load(state, name)
        if t is None:
            die("Topic '%s' does not exist" % name)
        cfg = ",".join("%s=%s" % kv for kv in sorted(t["configs"].items()))
        print("Topic: %s\tTopicId: fake\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s"
              % (name, t["partitions"], t["replication"], cfg))
    elif o.get("--alter"):
        t = load(state, name)
        if t is None:
            die("Topic '%s' does not exist" % name)
        parts = int(o.get("--partitions", "0"))
        if parts <= t["partitions"]:
            die("The number of partitions for a topic can only be increased.")
        t["partitions"] = parts
        save(state, name, t)
    else:
        die("kafka-topics.sh: no action given")


def configs_cmd(state, o):
    if not o.get("--alter") or o.get("--entity-type") != "topics" or "--add-config" not in o:
        die("only --alter --entity-type topics --add-config is supported")
    name = o.get("--entity-name")
    t = load(state, name)
    if t is None:
        die("Topic '%s' does not exist" % name)
    t["configs"].update(kv_pairs(o["--add-config"].split(",")))
    save(state, name, t)
    print("Completed updating config for topic %s." % name)


def main():
    state = os.environ.get("FAKE_KAFKA_STATE")
    if not state or not os.path.isdir(state):
        die("FAKE_KAFKA_STATE must name a directory")
    if len(sys.argv) < 2 or sys.argv[1] not in ("topics", "configs"):
        die("usage: fake_kafka.py topics|configs ARGS...")
    with open(os.path.join(state, "calls.log"), "a") as f:
        f.write(" ".join(sys.argv[1:]) + "\n")
    if os.environ.get("FAKE_KAFKA_DOWN") == "1":
        die("Connection to node -1 could not be established. Broker may not be available.")
    o = parse(sys.argv[2:])
    (topics_cmd if sys.argv[1] == "topics" else configs_cmd)(state, o)


if __name__ == "__main__":
    main()
