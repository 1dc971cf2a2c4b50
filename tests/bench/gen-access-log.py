#!/usr/bin/env python3
"""Writes a squid access log in the native format, for `palisade bench
--access-log`: SIZE megabytes (default 1024) of requests from 2,000 pods,
each calling a few of 5,000 destinations, mostly CONNECT 443 tunnels, some
plain GETs and denials. Deterministic (a fixed seed).

    python3 tests/bench/gen-access-log.py 1024 > /tmp/access.log
"""

import random
import sys


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    limit = size * 1024 * 1024
    rng = random.Random(1)
    hosts = [f"svc{i}.example{i % 97}.com" for i in range(5000)]
    clients = [f"10.244.{i // 250}.{i % 250 + 1}" for i in range(2000)]
    wants = {c: rng.sample(hosts, 5) for c in clients}
    out = sys.stdout
    written = 0
    t = 1796032800.0
    lines = []
    while written < limit:
        c = clients[rng.randrange(len(clients))]
        h = wants[c][rng.randrange(5)]
        t += rng.random() * 0.01
        r = rng.random()
        if r < 0.8:
            line = f"{t:.3f} {rng.randrange(1, 90000):6d} {c} TCP_TUNNEL/200 {rng.randrange(200, 900000)} CONNECT {h}:443 - HIER_DIRECT/93.184.216.{rng.randrange(1, 250)} -\n"
        elif r < 0.95:
            line = f"{t:.3f} {rng.randrange(1, 900):6d} {c} TCP_MISS/200 {rng.randrange(200, 90000)} GET http://{h}/api/v1/items/{rng.randrange(100000)}?page={rng.randrange(50)} - HIER_DIRECT/93.184.216.{rng.randrange(1, 250)} application/json\n"
        else:
            line = f"{t:.3f} {0:6d} {c} TCP_DENIED/403 3941 CONNECT {h}:8443 - HIER_NONE/- text/html\n"
        lines.append(line)
        written += len(line)
        if len(lines) >= 10000:
            out.write("".join(lines))
            lines.clear()
    out.write("".join(lines))


if __name__ == "__main__":
    main()
