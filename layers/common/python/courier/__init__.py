"""Courier's shared library, shipped to Lambda as a layer and installed editable locally.

Domain modules (jobs, signatures, errors, settings) import neither FastAPI nor Lambda
event shapes; `courier.adapters` holds the thin glue to both.
"""

__version__ = "0.1.0"
