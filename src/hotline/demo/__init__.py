"""Database-free demo data for Hotline 1022: realistic cases and calls for fixed profiles."""
