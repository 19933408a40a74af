#!/usr/bin/python3
"""consumer.py - the smallest correct Python reader of a trackstar-pipeline canonical topic,
with Debian's python3-confluent-kafka (librdkafka underneath, LZ4 included).

It joins a consumer group on one wms.<entity>.v1 topic and keeps only the newest version
per Kafka key (connection_id|id), comparing source_updated_at as the pipeline's writer
does: a redelivered or older record is skipped. Records of a schema_version it does not
know are reported and skipped; unknown fields and enum values are ignored (the schemas
only change additively). "Applying" a record prints it: put your own upsert there.

    /usr/bin/python3 docs/examples/consumer.py localhost:17092 my-team-orders wms.orders.v1

Offsets are stored only after a record is handled (enable.auto.offset.store=false), and
auto-commit commits them, so a crash replays at most the last few records: harmless,
because applying is idempotent. SIGINT/SIGTERM close the consumer cleanly.
"""
import json
import signal
import sys

from confluent_kafka import Consumer, KafkaException

KNOWN_SCHEMA_VERSION = 1
running = True


def stop(signum, frame):
    global running
    running = False


def main():
    if len(sys.argv) != 4:
        print("usage: consumer.py <brokers> <group.id> <topic>", file=sys.stderr)
        return 2
    brokers, group, topic = sys.argv[1:]
    consumer = Consumer({
        "bootstrap.servers": brokers,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.offset.store": False,
        "partition.assignment.strategy": "cooperative-sticky",
    })
    consumer.subscribe([topic])
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    newest = {}  # key -> source_updated_at (RFC 3339 UTC strings compare as text)
    try:
        while running:
            m = consumer.poll(0.1)
            if m is None:
                continue
            if m.error():
                if m.error().fatal():
                    raise KafkaException(m.error())
                print("consumer: %s" % m.error(), file=sys.stderr)
                continue
            key = (m.key() or b"").decode("utf-8", "replace")
            try:
                rec = json.loads(m.value())
            except (TypeError, ValueError):
                rec = None
            if not isinstance(rec, dict) or rec.get("schema_version") != KNOWN_SCHEMA_VERSION \
                    or not isinstance(rec.get("source_updated_at"), str):
                print("skipping %s: unknown schema_version or no source_updated_at" % key, file=sys.stderr)
            elif rec["source_updated_at"] < newest.get(key, ""):
                print("older version of %s ignored (%s)" % (key, rec["source_updated_at"]), flush=True)
            else:
                newest[key] = rec["source_updated_at"]
                print("apply %s %s version %s via %s" % (rec.get("entity", "?"), key,
                                                         rec["source_updated_at"], rec.get("source", "?")),
                      flush=True)
            consumer.store_offsets(message=m)  # only after it was handled
    finally:
        consumer.close()  # commits the stored offsets
    return 0


if __name__ == "__main__":
    sys.exit(main())
