"""Contacts domain."""
