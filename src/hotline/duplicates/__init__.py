"""Duplicates domain: suggest likely repeats of a case, cluster them, merge them."""
