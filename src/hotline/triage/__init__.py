"""Triage: suggest a category and flag urgency for free text, offline, in Vietnamese."""
