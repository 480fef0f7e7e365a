"""The citizen portal and app: reports without signing in, tracking, the public list."""
