"""The request handler the local stack's HTTP servers share (the Lambda runtime's Invoke API,
the HTTP API and Function URLs, the tests' receiver)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler


class LoopbackHandler(BaseHTTPRequestHandler):
    """Keep-alive, and no Nagle: an answer's headers and body are two writes, and with Nagle a
    small answer's body waited for the client's delayed ACK (40 ms a request)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
