"""Benchmarks: ingest throughput, warm query latency by stage, index types from 1k to 1M
passages, concurrency and peak memory. `python -m bench [--quick|--smoke] [--out DIR]` writes
BENCHMARKS.md and results.json; see bench/README.md."""
