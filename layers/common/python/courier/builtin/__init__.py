"""Courier's built-in job types: text.hash, demo.sleep and batch.run (small, real, cheap:
for tests, demos, load, and fan-out)."""
