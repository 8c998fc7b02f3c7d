"""Benchmarks (`make bench`): each figure is measured next to an anchor taken in the same run on
the same sandbox (PTB's own AIORateLimiter, or the floor Telegram's limits allow), and the ratio
is printed. Absolute times on a shared machine are noise; ratios are not."""
