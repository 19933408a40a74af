#!/usr/bin/env python3
"""Print COUNT distinct free TCP ports on 127.0.0.1 in [LOW, HIGH), at least two apart
(the dev broker takes PORT+1.. for extra brokers).

  free_ports.py COUNT LOW HIGH
"""
import random, socket, sys

count, low, high = (int(a) for a in sys.argv[1:4])
ports = []
for p in random.sample(range(low, high), high - low):
    if any(abs(p - q) < 2 for q in ports):
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        ports.append(p)
    except OSError:
        pass
    finally:
        s.close()
    if len(ports) == count:
        break
if len(ports) < count:
    sys.exit("free_ports: not enough free ports in %d-%d" % (low, high - 1))
print(*ports)
