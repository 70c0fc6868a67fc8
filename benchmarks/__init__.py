"""Speed and memory benchmarks (``python -m benchmarks.throughput``); see docs/performance.md."""
