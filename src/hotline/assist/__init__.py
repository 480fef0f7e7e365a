"""Everything the new-case form and an incoming message need, in one call."""
