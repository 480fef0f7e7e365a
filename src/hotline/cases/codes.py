"""Tracking codes a citizen can read over the phone: 8 Crockford base-32 symbols, XXXX-XXXX.

Crockford's alphabet has no I, L, O or U, and reading tolerates the usual confusions
(O for 0, I/L for 1), so a code misheard on a noisy line still resolves.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSIONS = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def random_code() -> str:
    # 40 random bits read once, cut into eight 5-bit symbols: one system call per code
    # instead of one per symbol (intake makes a code on every request).
    n = int.from_bytes(secrets.token_bytes(5), "big")
    raw = "".join(ALPHABET[(n >> shift) & 31] for shift in range(35, -1, -5))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(text: str) -> str | None:
    """Canonical form of a typed or spoken code, or None if it cannot be one."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum()).translate(_CONFUSIONS)
    if len(raw) != 8 or any(ch not in ALPHABET for ch in raw):
        return None
    return f"{raw[:4]}-{raw[4:]}"
