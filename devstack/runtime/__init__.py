"""A local Lambda runtime: real handlers, invoked with the event shapes AWS sends them."""
