#!/usr/bin/env python3
"""Drives an OpenAI-compatible server (trident serve, llama-server, ...) at several
concurrency levels with fixed prompts and reports output tokens/s, time to first token and
inter-token latency (p50/p99). Standard library only.

Usage: bench-serve.py --url http://127.0.0.1:8000 [--model NAME] [--concurrency 1,4,16]
                      [--requests 32] [--max-tokens 64] [--label trident] [--ignore-eos]
Every request is a streamed greedy /v1/completions with fixed prompts (with --ignore-eos every
request generates exactly max_tokens, on servers that honour vLLM's and llama.cpp's
`ignore_eos`); tokens are counted from the usage chunk when the server sends one, else from
the content chunks. A warm-up request runs before the first level.
scripts/bench-serve-compare.sh runs trident serve and llama-server side by side.
"""
import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse

PROMPTS = [f"Write a short story about a {animal} who learns to {skill}."
           for animal in ["cat", "dog", "fox", "owl"] for skill in ["swim", "sing", "read", "fly"]]


def one_request(url, model, prompt, max_tokens, ignore_eos=False):
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=600)
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    if model:
        body["model"] = model
    if ignore_eos:
        body["ignore_eos"] = True
    started = time.perf_counter()
    connection.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"status {response.status}: {response.read()[:200]}")
    arrivals, usage_tokens = [], None
    for raw in response:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if chunk.get("usage"):
            usage_tokens = chunk["usage"]["completion_tokens"]
        # One event per sampled token, its text empty for a special token (e.g. an end-of-turn
        # token passed over by ignore_eos); a last chunk that only carries finish_reason is no token.
        for choice in chunk.get("choices", []):
            if choice.get("text") or choice.get("finish_reason") is None:
                arrivals.append(time.perf_counter())
    connection.close()
    tokens = usage_tokens if usage_tokens is not None else len(arrivals)
    ttft = arrivals[0] - started if arrivals else float("nan")
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    return tokens, ttft, gaps


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run_level(url, model, concurrency, requests, max_tokens, ignore_eos):
    lock, next_index = threading.Lock(), [0]
    tokens, ttfts, gaps, errors = [], [], [], []

    def worker():
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= requests:
                return
            try:
                t, first, g = one_request(url, model, PROMPTS[i % len(PROMPTS)], max_tokens, ignore_eos)
                with lock:
                    tokens.append(t)
                    ttfts.append(first)
                    gaps.extend(g)
            except Exception as error:  # noqa: BLE001 - reported, counted
                with lock:
                    errors.append(str(error))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    return {"concurrency": concurrency, "requests": requests, "errors": len(errors),
            "output_tokens_per_s": sum(tokens) / seconds, "seconds": seconds,
            "ttft_p50_ms": 1000 * percentile(ttfts, 50), "ttft_p99_ms": 1000 * percentile(ttfts, 99),
            "itl_p50_ms": 1000 * percentile(gaps, 50), "itl_p99_ms": 1000 * percentile(gaps, 99)}


HEADER = (f"{'server':<10} {'conc':>4} {'req':>4} {'err':>3} {'tok/s':>8} {'TTFT p50':>9} {'TTFT p99':>9} "
          f"{'ITL p50':>8} {'ITL p99':>8}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--model", default=None)
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--label", default="server")
    parser.add_argument("--ignore-eos", action="store_true")
    parser.add_argument("--no-header", action="store_true")
    parser.add_argument("--header-only", action="store_true")
    args = parser.parse_args()
    if not args.no_header or args.header_only:
        print(HEADER)
    if args.header_only:
        return
    one_request(args.url, args.model, PROMPTS[0], 4, args.ignore_eos)  # warm-up
    for level in [int(c) for c in args.concurrency.split(",")]:
        r = run_level(args.url, args.model, level, max(args.requests, level), args.max_tokens, args.ignore_eos)
        print(f"{args.label:<10} {r['concurrency']:>4} {r['requests']:>4} {r['errors']:>3} "
              f"{r['output_tokens_per_s']:>8.1f} {r['ttft_p50_ms']:>7.0f}ms {r['ttft_p99_ms']:>7.0f}ms "
              f"{r['itl_p50_ms']:>6.1f}ms {r['itl_p99_ms']:>6.1f}ms", flush=True)


if __name__ == "__main__":
    main()
