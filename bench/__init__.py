"""Benchmarks: how fast and how lean the bot is, and how close it gets to Telegram's limits.

Run them as modules from the repository root (see BENCHMARKS.md for the figures):

    python -m bench.dialogue --members 100
    python -m bench.fanout --recipients 300
    python -m bench.reports

They are measurements, not tests: nothing here asserts a time. tests/test_bench_smoke.py only
proves that each one still runs.
"""
