"""Operators as call takers: availability, SIP phone credentials, the queue view."""
