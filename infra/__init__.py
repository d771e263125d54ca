"""Courier's CDK app: stage configuration, Docker-free assets, constructs and stacks."""
