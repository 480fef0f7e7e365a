"""Messaging channels: provider webhooks in, replies out through a durable outbox."""
