"""Courier's stacks."""
