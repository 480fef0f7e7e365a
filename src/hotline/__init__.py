"""Hotline 1022: a citizen hotline platform."""
