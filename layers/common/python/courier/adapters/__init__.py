"""Glue between the library and its hosts: Lambda event shapes and FastAPI."""
