"""Duplicates domain: suggest likely repeats of a case, cluster them, merge them; merge two
contact cards of one person."""
