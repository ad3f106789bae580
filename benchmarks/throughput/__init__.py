"""The throughput benchmark's parts; `benchmarks/bench_throughput.py` is the entry point."""
