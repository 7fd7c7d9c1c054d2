"""LLM path throughput: concurrent vs sequential requests, and a cached re-run.

Run ``python benchmarks/bench_llm.py``. Starts the OpenAI-compatible test
server on 127.0.0.1 with a fixed latency per request (50 ms by default) and
classifies the same prompts through ``LLMClassifier(OpenAIChat(...))`` with 1
and with 8 requests in flight, then again with a warm cache. Exits 1 when 8 in
flight give less than 6x the sequential throughput or the cached run makes a
request.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn_kcm._testing import ChatServer
from sklearn_kcm.llm import LLMClassifier, OpenAIChat


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--prompts", type=int, default=96)
    args = parser.parse_args(argv)
    texts = [f"review {i}: a {'good' if i % 2 else 'dull'} film" for i in range(args.prompts)]
    labels = ["positive" if i % 2 else "negative" for i in range(args.prompts)]
    os.environ.setdefault("KCM_BENCH_KEY", "bench")
    rows = {}
    with ChatServer(latency=args.latency) as server, tempfile.TemporaryDirectory() as cache:
        chat = OpenAIChat("bench", base_url=server.base_url, api_key_env="KCM_BENCH_KEY")
        for name, concurrency, cache_dir in (("sequential", 1, None), ("8 in flight", 8, cache),
                                             ("8 in flight, cached", 8, cache)):
            clf = LLMClassifier(chat, max_concurrency=concurrency, cache=cache_dir)
            clf.fit(texts, labels)
            sent = len(server.prompts)
            start = time.perf_counter()
            accuracy = (clf.predict(texts) == labels).mean()
            seconds = time.perf_counter() - start
            rows[name] = (seconds, len(server.prompts) - sent, accuracy)
    print(f"{args.prompts} prompts, server latency {args.latency * 1000:.0f} ms per request")
    print(f"{'run':<22} {'seconds':>8} {'prompts/s':>10} {'requests':>9} {'accuracy':>9}")
    for name, (seconds, requests, accuracy) in rows.items():
        print(f"{name:<22} {seconds:8.3f} {args.prompts / seconds:10.1f} {requests:9d} "
              f"{accuracy:9.2f}")
    speedup = rows["sequential"][0] / rows["8 in flight"][0]
    cached_requests = rows["8 in flight, cached"][1]
    print(f"8 in flight / sequential throughput = {speedup:.1f}; "
          f"requests of the cached run = {cached_requests}")
    missed = speedup < 6 or cached_requests != 0
    print("targets: " + ("MISSED" if missed else "all met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
