"""Live events between API replicas: the PostgreSQL bus's delivery latency and throughput.

A throw-away PostgreSQL (``tests/pg.py``, Debian's ``postgresql``) and two buses on it, as two
replicas have (``calmline.api.livebus.PostgresBus``: NOTIFY on one connection, LISTEN on
another). Replica A publishes transcript events (60 words with their timings, about 2 KB: one
NOTIFY payload; ``--words`` makes them larger, and chunked); replica B receives them. Latency is
publish -> B's delivery callback, i.e. what a feed on another replica adds to a local one. First
at a steady rate (``--rate`` events/s, many calls' worth), then as one burst (throughput).

    .venv/bin/python bench/live_bus.py [--events 1000] [--rate 200] [--words 60]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.pg of the checkout

from calmline.api.livebus import PostgresBus, encode


def _event(seq: int, words: int) -> dict:
    """A transcript event as a session makes it: text and per-word timings."""
    timings = [
        [round(i * 0.31, 3), round(i * 0.31 + 0.25, 3), f"word{i}", 0.93] for i in range(words)
    ]
    data = {"text": " ".join(w[2] for w in timings), "words": timings}
    return {"type": "transcript", "seq": seq, "sent": 0.0, "data": data}


def _run(a: PostgresBus, b_got: list[float], done: threading.Event, n: int, rate: float | None,
         words: int) -> tuple[list[float], float]:  # fmt: skip
    b_got.clear()
    done.clear()
    event = _event(0, words)
    t0 = time.perf_counter()
    for i in range(n):
        if rate:
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        a.publish({**event, "seq": i, "sent": time.perf_counter()})
    if not done.wait(120):
        raise SystemExit(f"only {len(b_got)} of {n} events arrived within 120 s")
    return list(b_got), time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="events/s of the steady run")
    parser.add_argument("--words", type=int, default=60, help="words per transcript event")
    args = parser.parse_args()

    from tests.pg import PostgresServer, pg_bin

    if pg_bin() is None:
        raise SystemExit("PostgreSQL is not installed (scripts/system-deps.sh)")
    server = PostgresServer().start()
    a, b = PostgresBus(server.url()), PostgresBus(server.url())
    got: list[float] = []
    done = threading.Event()

    def deliver(event, replica) -> None:
        got.append(time.perf_counter() - event["sent"])
        if len(got) == args.events:
            done.set()

    try:
        a.start(lambda event, replica: None)
        b.start(deliver)
        sample = _event(0, args.words)
        payloads = encode(sample, a.replica_id, 1)
        print(
            f"event: {sum(map(len, payloads))} bytes on the wire in {len(payloads)} NOTIFY "
            f"payload(s) ({args.words} words)"
        )
        for name, rate in (("steady", args.rate), ("burst", None)):
            lat, wall = _run(a, got, done, args.events, rate, args.words)
            lat.sort()
            print(
                f"{name:6s} {args.events} events in {wall:.2f} s ({args.events / wall:.0f}/s): "
                f"latency median {statistics.median(lat) * 1000:.1f} ms, "
                f"p95 {lat[int(0.95 * len(lat))] * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms"
            )
    finally:
        a.close()
        b.close()
        server.stop()


if __name__ == "__main__":
    main()
