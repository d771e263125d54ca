"""The local, offline stack: a QStash-compatible server, local AWS and a local Lambda runtime."""
