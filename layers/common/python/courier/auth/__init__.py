"""API keys: who is calling, and for which tenant."""
