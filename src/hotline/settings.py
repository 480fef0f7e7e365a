"""One Settings object, read from HOTLINE_* environment variables and built once."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The default key of earlier versions: public, so refused everywhere.
PLACEHOLDER_SECRET = "change-me-development-only"
SECRET_KEY_MIN_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_file=None, extra="ignore")

    # Anything but "development" marks session cookies Secure (HTTPS only).
    environment: Literal["development", "test", "production"] = "development"
    database_url: str = ""
    var_dir: Path = Path("var")
    # Signs page-session cookies. Empty: a random key is made once and kept in
    # var_dir/secret_key (hotline/secret_key.py); several machines must share one key.
    secret_key: str = Field(default="", repr=False)
    # A page session ends this long after sign-in, whatever the activity.
    session_ttl_hours: int = Field(default=24 * 14, ge=1, le=24 * 365)
    # The live event stream re-checks its caller's token or session this often (seconds).
    events_recheck_seconds: float = Field(default=10.0, gt=0, le=10)
    # Each web process reads the event log this often even without a wake-up (the only
    # way on SQLite; a safety net where Redis or PostgreSQL NOTIFY wake it).
    events_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # An event id that a still-running PostgreSQL transaction may hold is waited for at
    # most this long before later events are delivered without it (eventfeed.py).
    events_gap_seconds: float = Field(default=5.0, gt=0, le=300)
    # The worker deletes events older than this; a stream resuming from an older id is
    # told to reload (event `reset`).
    events_keep_hours: float = Field(default=48.0, gt=0)
    # The worker deletes jobs done longer ago than this (failed ones stay, for operators to
    # see); a job's key guards against a repeat only while its row is kept.
    jobs_keep_done_hours: float = Field(default=168.0, gt=0)
    # PostgreSQL only: jobs one worker process holds at once (replies being sent, mostly:
    # each waits on its provider); SQLite runs one job at a time.
    worker_concurrency: int = Field(default=128, ge=1, le=1024)
    # PostgreSQL only: `hotline worker` processes started together (they share the job
    # table: each job is leased to one of them); SQLite always runs one.
    worker_processes: int = Field(default=1, ge=1, le=32)
    # At most this many missed events are replayed to a resuming stream, else `reset`.
    events_replay_max: int = Field(default=2000, ge=1)
    site_name: str = "Tổng đài 1022"
    site_province_code: str = "01"
    timezone: str = "Asia/Ho_Chi_Minh"
    attachment_max_bytes: int = 10 * 1024 * 1024
    token_ttl_hours: int = 24 * 30
    host: str = "127.0.0.1"
    port: int = 8022
    # The hotline's address as the internet reaches it (https://1022.example.gov.vn): the
    # webhook URL the hotline registers with a provider itself (Viber) is built on it.
    # Empty: such a channel cannot be created until it is set.
    public_url: str = ""
    # Connections kept open per process; keep it above the requests one process serves at
    # once, or overflow connections are opened and closed on every request.
    db_pool_size: int = 20
    # PostgreSQL only: case intake runs as self-committing statements outside the ORM, on
    # this many connections per web process, each writing one statement at a time; reports
    # arriving while all are busy are written together, up to intake_batch_max per
    # statement (cases/intake_batch.py). The providers' webhooks have as many connections
    # of their own, grouping events the same way (channels/hooks_batch.py). Mind
    # PostgreSQL's max_connections: up to 2 x db_pool_size + 2 x db_intake_pool_size per
    # process, and a few for live events (the feed's reads, its LISTEN, the wake-ups).
    db_intake_pool_size: int = Field(default=2, ge=1, le=64)
    intake_batch_max: int = Field(default=32, ge=1, le=1000)
    # Requests per minute per client address on the pages anyone may open (the FAQ).
    public_requests_per_minute: int = Field(default=120, ge=1)
    # The web chat widget (docs/channels.md, "Web chat"): sessions started per minute per
    # client address; messages per minute per visitor (and 5 times as many per address).
    webchat_sessions_per_minute: int = Field(default=10, ge=1)
    webchat_messages_per_minute: int = Field(default=20, ge=1)
    # Failed sign-ins allowed in any window: per client address across usernames (password
    # spraying; an office behind one NAT address shares it) and per username across
    # addresses. Counted in Redis when redis_url is set, so every web process shares them.
    login_failures_per_address: int = Field(default=50, ge=1)
    login_failures_per_username: int = Field(default=10, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    # Key prefix of those counts in Redis (several sites may share one Redis).
    ratelimit_prefix: str = "hotline-limits"
    # Largest request body other than a file upload (JSON, sign-in forms); uploads are
    # capped by attachment_max_bytes / prompt_upload_max_bytes (web/guard.py).
    request_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Reverse proxies (addresses or CIDRs) whose X-Forwarded-For / X-Forwarded-Proto are
    # believed (`hotline serve`). Empty: none; the client address is the TCP peer's.
    trusted_proxies: list[str] = Field(default_factory=list)
    log_sql: bool = False
    # Logs: readable lines in development, one JSON object per line otherwise (logs.py);
    # one access line per request, with its request id (web/observe.py).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    access_log: bool = True
    # /metrics answers these addresses (CIDRs), and any caller presenting metrics_token as
    # a bearer token; everyone else gets 403. The phone line serves its own metrics on
    # sip_metrics_host:sip_metrics_port (0: not served).
    metrics_allow: list[str] = Field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])
    metrics_token: str = Field(default="", repr=False)
    # With several web processes, live events fan out through Redis pub/sub.
    redis_url: str = ""
    # Channel names on that Redis start with this, so deployments sharing one Redis never
    # read each other's events. Empty: derived from the database (effective_redis_prefix).
    redis_prefix: str = ""
    # Counters are spread over a few rows per bucket so that concurrent intake does not
    # serialise on one hot counter row (PostgreSQL row locks are held until commit).
    counter_shards: int = Field(default=8, ge=1, le=64)
    # Duplicate suggestion (docs/duplicates.md): cases within this many hours either side
    # are candidates; at most this many candidates are scored; below this score nothing is
    # suggested.
    duplicate_window_hours: int = Field(default=72, ge=1, le=24 * 30)
    duplicate_max_candidates: int = Field(default=300, ge=10, le=5000)
    duplicate_threshold: float = Field(default=0.5, gt=0, le=1)
    # The phone line (`hotline sip`). Only INVITEs from the trunk networks are answered: an
    # open SIP port that transfers calls to outside numbers is a toll-fraud target.
    sip_host: str = "127.0.0.1"
    sip_port: int = 5080
    # This phone-line instance's name, written on each call it handles, so that at start-up
    # it closes only the calls it left open (several instances behind Kamailio share one
    # database). Empty: "<host name>:<sip_port>"; set it where host names change (containers).
    sip_instance: str = Field(default="", max_length=64)
    sip_metrics_host: str = "127.0.0.1"
    sip_metrics_port: int = Field(default=0, ge=0, le=65535)
    sip_media_address: str = ""
    sip_rtp_port_min: int = 20000
    sip_rtp_port_max: int = 20999
    sip_trunk_networks: list[str] = Field(default_factory=lambda: ["127.0.0.0/8"])
    # A carrier trunk that wants the line to REGISTER (digest): its registrar as `host[:port]`
    # (empty: none), the account, the binding's domain (default: the registrar's host), the
    # expiry asked for and the seconds between attempts after a failure. While registered,
    # INVITEs from the registrar's address are the trunk's.
    sip_trunk_registrar: str = ""
    sip_trunk_username: str = ""
    sip_trunk_password: str = Field(default="", repr=False)
    sip_trunk_domain: str = ""
    sip_trunk_register_expires: int = Field(default=600, ge=30)
    sip_trunk_register_retry: float = Field(default=30.0, gt=0)
    # Trunks let in by digest instead of by address: user name -> password (JSON in the
    # environment). An INVITE from outside `sip_trunk_networks` is challenged in `sip_realm`.
    sip_trunk_users: dict[str, str] = Field(default_factory=dict, repr=False)
    # The edge proxies in front of the line (deploy/edge): from them, X-Hotline-Source names
    # the address a call came from, which is then what the trunk checks above look at.
    sip_edge_networks: list[str] = Field(default_factory=list)
    # Every call the line places to the outside (callbacks, bridged transfers) goes through
    # this proxy (the edge: `sip:10.0.0.5:5060`, an IP address), which anchors the media and
    # hides the line. Empty: straight to the callee's address.
    sip_outbound_proxy: str = ""
    # Calls at once (counted from the moment an INVITE is accepted); above it a trunk's
    # INVITE gets 503 with Retry-After `sip_retry_after_seconds`, recorded as a failed call.
    sip_max_calls: int = 500
    sip_retry_after_seconds: int = Field(default=5, ge=1, le=3600)
    # Where the line keeps call records until the database has them (telephony/spool.py);
    # empty: <var_dir>/call-spool. One line instance per directory.
    sip_spool_dir: Path | None = None
    # While the database is unreachable the spool is retried after 1 s, doubling up to this.
    sip_spool_retry_seconds: float = Field(default=30.0, gt=0, le=600)
    sip_rtp_timeout: float = 60.0
    sip_max_call_seconds: float = 7200.0
    # Session timers (RFC 4028): the interval we grant (a caller may ask for less, down to
    # `sip_min_se`; below that it gets 422).
    sip_session_expires: int = Field(default=1800, ge=1)
    sip_min_se: int = Field(default=90, ge=1)
    sip_transfer_115: str = "sip:115@127.0.0.1:5090"
    sip_transfer_cdc: str = "sip:cdc@127.0.0.1:5090"
    sip_digit_timeout: float = 5.0
    sip_ring_seconds: float = 0.0
    sip_voice: str = "vi"
    # Knowledge base: let chat channels answer on their own when one published article
    # matches a message with at least this score (0-1). Off by default; replies always
    # offer a human.
    kb_auto_answer: bool = False
    kb_auto_answer_threshold: float = Field(default=0.8, gt=0, le=1)
    # The ACD (operator queue): digest realm of the operators' phones, how long a nonce is
    # good for, the longest REGISTER we accept, how often the line re-reads operator
    # statuses, how long an operator's phone rings before the next one is tried, when a
    # waiting caller is offered a callback and how often they hear their place.
    sip_realm: str = "hotline1022"
    sip_nonce_seconds: float = 300.0
    sip_register_max_expires: int = 3600
    sip_agent_poll_seconds: float = 1.0
    sip_agent_ring_seconds: float = 15.0
    sip_callback_after: float = 60.0
    # The line dials promised callbacks itself when a member of their queue is free: the
    # caller's address, `{number}` being their number without "+" (e.g.
    # "sip:{number}@10.0.0.1:5060", the trunk); None: operators call back by hand.
    sip_callback_uri: str | None = None
    sip_callback_ring_seconds: float = Field(default=30.0, gt=0, le=120)
    sip_position_every: float = 30.0
    # The line publishes its queues (callers waiting, the oldest one's arrival) as
    # `queue.changed` events: at most one per `sip_queue_event_seconds` however busy the
    # queue, and again every `sip_queue_heartbeat_seconds` while callers wait; readers drop
    # an instance not heard of for three heartbeats (telephony/queue_events.py).
    sip_queue_event_seconds: float = Field(default=1.0, ge=0, le=60)
    sip_queue_heartbeat_seconds: float = Field(default=5.0, gt=0, le=300)
    # Guarding the phone line's door. Failed REGISTER digests lock out the SIP user after
    # `sip_register_max_failures` and the source address after
    # `sip_register_max_failures_per_address`, each within `sip_register_failure_window`
    # seconds; a lockout lasts `sip_register_lockout_seconds`, doubling each time the same
    # user or address is locked again, up to `sip_register_lockout_max_seconds`. OPTIONS is
    # answered only to the trunks and registered phones unless `sip_options_answer_all`.
    # Repeated log lines (junk, refused requests) are kept to one per source per
    # `sip_log_interval_seconds`.
    sip_register_max_failures: int = Field(default=5, ge=1)
    sip_register_max_failures_per_address: int = Field(default=10, ge=1)
    sip_register_failure_window: float = Field(default=300.0, gt=0)
    sip_register_lockout_seconds: float = Field(default=60.0, gt=0)
    sip_register_lockout_max_seconds: float = Field(default=3600.0, gt=0)
    # SIP logins and source addresses whose failures are remembered (each kind); quiet ones
    # are forgotten first when full. Only real logins are counted per user.
    sip_register_lockout_table_size: int = Field(default=10_000, ge=10)
    sip_options_answer_all: bool = False
    sip_log_interval_seconds: float = Field(default=60.0, gt=0)
    # Opening hours per branch, local site time, "HH:MM-HH:MM"; a branch not listed is 24/7.
    # Phone configuration as data (`/api/v1/phone`): the line polls its version this often.
    sip_config_poll_seconds: float = Field(default=5.0, gt=0)
    prompt_upload_max_bytes: int = 20 * 1024 * 1024
    # A recorded call is kept in memory until it ends: this caps it (then recording stops).
    recording_max_seconds: float = 2 * 3600.0
    sip_opening_hours: dict[str, list[str]] = Field(
        default_factory=lambda: {"doctor": ["09:00-11:00", "15:00-17:00", "19:00-21:00"]}
    )
    # Home care (docs/care.md). Doctors of the consult group need this many years of
    # practice (the Hà Nội network's rule).
    care_consult_min_years: int = Field(default=5, ge=0, le=60)
    # A consult doctor's weekly windows when none are given, local site time, every day.
    care_consult_windows: list[str] = Field(
        default_factory=lambda: ["09:00-11:00", "15:00-17:00", "19:00-21:00"]
    )
    # Patients a proactive-care doctor follows at most, unless their profile says otherwise.
    care_default_capacity: int = Field(default=50, ge=1, le=10_000)
    # Which Ministry of Health decision's thresholds apply (care/rulesets.py): warning signs
    # "byt-4377-2021" (Aug-Sep 2021 handbook) or "byt-261-2022"; home-care eligibility
    # "byt-4038-2021" or "byt-261-2022".
    care_warning_signs: Literal["byt-4377-2021", "byt-261-2022"] = "byt-4377-2021"
    care_eligibility: Literal["byt-4038-2021", "byt-261-2022"] = "byt-4038-2021"
    # Check-ins due each day (local "HH:MM", morning and afternoon); a check-in not made
    # this many minutes after its due time raises a reminder, then an alert.
    care_checkin_times: list[str] = Field(default_factory=lambda: ["08:00", "16:00"])
    care_checkin_remind_minutes: int = Field(default=60, ge=1)
    care_checkin_alert_minutes: int = Field(default=180, ge=1)

    @field_validator("care_consult_windows", "care_checkin_times", mode="after")
    @classmethod
    def _local_times(cls, v: list[str]) -> list[str]:
        import re

        one = r"([01]\d|2[0-3]):[0-5]\d"
        for item in v:
            if not re.fullmatch(rf"{one}(-({one}|24:00))?", item.strip()):
                raise ValueError(f"not HH:MM or HH:MM-HH:MM: {item!r}")
        return v

    # Staffing (docs/staffing.md). The service level the forecast staffs for (a share of
    # calls answered within so many seconds), the busiest operators may be kept (occupancy),
    # the weeks of history the forecast reads, and how far ahead an unfilled shift alerts.
    staffing_service_level: float = Field(default=0.8, gt=0, lt=1)
    staffing_answer_seconds: int = Field(default=20, ge=1, le=600)
    staffing_max_occupancy: float = Field(default=0.85, gt=0, le=1)
    staffing_history_weeks: int = Field(default=8, ge=1, le=52)
    # After-call work added to each answered call's talk time (the records hold talk only).
    staffing_wrap_seconds: int = Field(default=30, ge=0, le=3600)
    staffing_unfilled_alert_hours: float = Field(default=12.0, ge=0, le=24 * 14)
    # How early before a rostered shift its people may clock in (staffing.service.clock).
    staffing_clock_in_early_minutes: int = Field(default=30, ge=0, le=240)
    # How many weeks ahead an operator may put themselves on the roster (a supervisor is
    # not bound by it: staffing.placing.assign).
    staffing_self_roster_weeks: int = Field(default=4, ge=0, le=52)
    # Surge mode: entered when any threshold is reached (callers waiting, the longest wait
    # in seconds, the share of queue calls abandoned in the last 15 minutes once at least
    # `surge_min_calls` were offered), left when all figures are under half of them and
    # `surge_min_minutes` have passed; meanwhile waiting callers are offered a callback
    # after `surge_callback_after` seconds instead of `sip_callback_after`.
    surge_waiting: int = Field(default=10, ge=1)
    surge_longest_wait: int = Field(default=120, ge=1)
    surge_abandonment: float = Field(default=0.3, gt=0, le=1)
    surge_min_calls: int = Field(default=10, ge=1)
    surge_min_minutes: float = Field(default=10.0, ge=0)
    surge_callback_after: float = Field(default=15.0, ge=0)
    # A reserve volunteer alerted of one entry is not alerted of another within this.
    surge_renotify_minutes: float = Field(default=60.0, ge=0, le=7 * 24 * 60)

    @field_validator("database_url", mode="after")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()

    @field_validator("secret_key", mode="after")
    @classmethod
    def _secret(cls, v: str) -> str:
        v = v.strip()
        if v == PLACEHOLDER_SECRET:
            raise ValueError("HOTLINE_SECRET_KEY is the public placeholder: set a random key")
        if v and len(v) < SECRET_KEY_MIN_LENGTH:
            raise ValueError(
                f"HOTLINE_SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} characters"
            )
        return v

    @field_validator(
        "sip_trunk_networks", "sip_edge_networks", "trusted_proxies", "metrics_allow", mode="after"
    )
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        import ipaddress

        for net in v:
            ipaddress.ip_network(net, strict=False)  # ValueError names the bad entry
        return v

    @field_validator("sip_outbound_proxy", mode="after")
    @classmethod
    def _proxy(cls, v: str) -> str:
        import ipaddress
        import re

        v = v.strip()
        if v:  # sip:HOST[:PORT][;params]: an IP address, the line has no resolver
            found = re.fullmatch(
                r"<?sips?:(?:[^@;>]+@)?(\[[^\]]+\]|[^:;>]+)(?::\d+)?(;[^>]*)?>?", v
            )
            if found is None:
                raise ValueError(f"not a SIP URI like sip:10.0.0.5:5060: {v!r}")
            ipaddress.ip_address(found.group(1).strip("[]"))  # ValueError names it
        return v

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.var_dir / 'hotline.sqlite3').resolve()}"

    @property
    def effective_redis_prefix(self) -> str:
        """The Redis channel prefix: the setting, else one derived from the database URL
        without its password (every process of a deployment shares the database, and two
        deployments do not)."""
        if self.redis_prefix:
            return self.redis_prefix
        import hashlib

        from sqlalchemy.engine import make_url

        where = make_url(self.effective_database_url).render_as_string(hide_password=True)
        return "hotline:" + hashlib.sha256(where.encode()).hexdigest()[:16]

    @property
    def sip_instance_id(self) -> str:
        if self.sip_instance:
            return self.sip_instance
        import socket

        return f"{socket.gethostname()}:{self.sip_port}"[:64]

    @property
    def call_spool_dir(self) -> Path:
        return self.sip_spool_dir or self.var_dir / "call-spool"

    @property
    def prompts_dir(self) -> Path:
        return self.var_dir / "prompts"

    @property
    def attachments_dir(self) -> Path:
        return self.var_dir / "attachments"

    @property
    def secure_cookies(self) -> bool:
        return self.environment != "development"


def normalise_database_url(url: str) -> str:
    """Accept plain postgresql:// and sqlite:// URLs and pick the async drivers."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


# Secrets that may come from a file named by HOTLINE_<NAME>_FILE (e.g. a container secret)
# instead of the environment itself.
SECRET_FILES = ("secret_key", "sip_trunk_password")


def load_settings(**overrides: object) -> Settings:
    for name in SECRET_FILES:
        secret_file = _read_secret_file(f"HOTLINE_{name.upper()}_FILE")
        if secret_file and name not in overrides:
            overrides[name] = secret_file
    return Settings(**overrides)  # type: ignore[arg-type]


def _read_secret_file(variable: str = "HOTLINE_SECRET_KEY_FILE") -> str | None:
    import os

    path = os.environ.get(variable)
    if path:
        return Path(path).read_text().strip()
    return None
