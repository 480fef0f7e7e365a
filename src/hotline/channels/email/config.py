"""One mailbox's settings, read from the channel's stored settings with their defaults.

The channel stores a plain mapping (the API takes JSON); this gives it names, types and the
defaults in one place so the reader, the sender and the IMAP client agree on them.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SECURITY = ("ssl", "starttls", "none")  # implicit TLS, upgraded plain connection, no TLS

REQUIRED = frozenset({"address", "imap_host", "username", "password", "smtp_host"})
SECRETS = frozenset({"password", "smtp_password"})

DEFAULT_IMAP_PORT = {"ssl": 993, "starttls": 143, "none": 143}
DEFAULT_SMTP_PORT = {"ssl": 465, "starttls": 587, "none": 25}


def _security(value: Any, default: str, field: str) -> str:
    text = str(value if value is not None else default).lower()
    if text not in SECURITY:
        raise ValueError(f"{field} must be one of {', '.join(SECURITY)}")
    return text


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


@dataclass(frozen=True)
class MailboxSettings:
    address: str  # the mailbox's own address: From of replies, domain of our Message-IDs
    imap_host: str
    imap_port: int
    imap_security: str
    username: str
    password: str
    folder: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str | None
    smtp_password: str | None
    display_name: str | None
    ca_file: str | None  # a private CA (or a self-signed server) to trust besides the system's
    timeout: float  # seconds for each connection and command
    idle: bool  # use IMAP IDLE when the server has it
    poll_seconds: float  # wait between polls when IDLE is off or missing
    mark_seen: bool  # flag fetched messages \\Seen (they are never deleted)
    batch: int  # messages fetched per call at most

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2] or "localhost"

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> MailboxSettings:
        missing = sorted(name for name in REQUIRED if not settings.get(name))
        if missing:
            raise ValueError(f"e-mail settings missing: {', '.join(missing)}")
        imap_security = settings.get("imap_security")
        if imap_security is None and (
            settings.get("imap_ssl") is not None or settings.get("imap_starttls") is not None
        ):
            # The short form: imap_ssl / imap_starttls booleans.
            if _flag(settings.get("imap_ssl"), False):
                imap_security = "ssl"
            else:
                imap_security = (
                    "starttls" if _flag(settings.get("imap_starttls"), False) else "none"
                )
        imap_security = _security(imap_security, "ssl", "imap_security")
        smtp_security = _security(settings.get("smtp_security"), "starttls", "smtp_security")
        smtp_username = settings.get("smtp_username")
        smtp_password = settings.get("smtp_password")
        return cls(
            address=str(settings["address"]).strip().lower(),
            imap_host=str(settings["imap_host"]),
            imap_port=int(settings.get("imap_port") or DEFAULT_IMAP_PORT[imap_security]),
            imap_security=imap_security,
            username=str(settings["username"]),
            password=str(settings["password"]),
            folder=str(settings.get("folder") or "INBOX"),
            smtp_host=str(settings["smtp_host"]),
            smtp_port=int(settings.get("smtp_port") or DEFAULT_SMTP_PORT[smtp_security]),
            smtp_security=smtp_security,
            smtp_username=str(smtp_username) if smtp_username else None,
            smtp_password=str(smtp_password) if smtp_password else None,
            display_name=str(settings["display_name"]) if settings.get("display_name") else None,
            ca_file=str(settings["ca_file"]) if settings.get("ca_file") else None,
            timeout=float(settings.get("timeout") or 30.0),
            idle=_flag(settings.get("idle"), True),
            poll_seconds=float(settings.get("poll_seconds") or 60.0),
            mark_seen=_flag(settings.get("mark_seen"), False),
            batch=int(settings.get("batch") or 50),
        )
