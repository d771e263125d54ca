"""Inbound webhooks: a tenant's sources, each provider's signature on the raw body, the
delivery answered at once and made an ordinary job, redeliveries deduplicated."""
