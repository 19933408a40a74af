#!/bin/sh
# Test stand-in for Apache Kafka's kafka-configs.sh (see ../fake_kafka.py).
# -S: no site module (the stand-in needs only the standard library); the topic job calls
# it ~100 times a run, and site processing was half of each start on a loaded machine.
exec python3 -S "$(dirname "$0")/../fake_kafka.py" configs "$@"
