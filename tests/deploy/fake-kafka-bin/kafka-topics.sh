#!/bin/sh
# Test stand-in for Apache Kafka's kafka-topics.sh (see ../fake_kafka.py).
exec python3 "$(dirname "$0")/../fake_kafka.py" topics "$@"
