#!/usr/bin/python3
"""consumer.py - the smallest correct Python reader of a trackstar-pipeline canonical topic,
with Debian's python3-confluent-kafka (librdkafka underneath, LZ4 included).

It joins a consumer group on one wms.<entity>.v1 topic and keeps, for every Kafka key
(connection_id|id), the LAST message it read: the pipeline's writer publishes exactly the
versions PostgreSQL applied, in the order it applied them, so the last message per key is
the record as the database holds it (docs/consuming.md). A delete record, and the
tombstone (null value) after it, mean the record is gone: forget the key. Records of a
schema_version it does not know are reported and skipped; unknown fields and enum values
are ignored (the schemas only change additively). "Applying" prints "upsert <key>
<record>" or "delete <key>": put your own upsert and delete there.

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
            value = m.value()
            if value is None:  # the tombstone after a delete record
                print("delete %s" % key, flush=True)
                consumer.store_offsets(message=m)
                continue
            try:
                rec = json.loads(value)
            except ValueError:
                rec = None
            if not isinstance(rec, dict) or rec.get("schema_version") != KNOWN_SCHEMA_VERSION:
                print("skipping %s: unknown schema_version" % key, file=sys.stderr)
            elif rec.get("deleted") is True:
                print("delete %s" % key, flush=True)
            else:
                print("upsert %s %s" % (key, value.decode("utf-8", "replace")), flush=True)
            consumer.store_offsets(message=m)  # only after it was handled
    finally:
        consumer.close()  # commits the stored offsets
    return 0


if __name__ == "__main__":
    sys.exit(main())
