"""Configuration read once from environment variables.

Every knob of the application lives here so that the embedded default
(SQLite, in-process bus, one worker) and production (PostgreSQL, Redis,
several workers) differ only by environment.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from work_dispatch.network import local_origins

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "work_dispatch.db"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from error


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as error:
        raise ValueError(f"{name} must be a number, got {raw!r}") from error


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _shop_timezone() -> str:
    """The shop's IANA timezone: ``WD_TIMEZONE``, else this machine's, else UTC."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    candidates = [os.environ.get("WD_TIMEZONE", "").strip(), os.environ.get("TZ", "").strip()]
    timezone_file = Path("/etc/timezone")
    if timezone_file.exists():
        candidates.append(timezone_file.read_text().strip())
    localtime = Path("/etc/localtime")
    if localtime.is_symlink() and "zoneinfo/" in str(localtime.readlink()):
        candidates.append(str(localtime.readlink()).split("zoneinfo/", 1)[1])
    for name in filter(None, candidates):
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            if name == candidates[0]:
                message = f"WD_TIMEZONE must be an IANA timezone such as Asia/Shanghai, got {name!r}"
                raise ValueError(message) from error
            continue
        return name
    return "UTC"


MONITOR_TOKEN_MIN_LENGTH = 16


def _monitor_token() -> str | None:
    """``WD_MONITOR_TOKEN``: the bearer token that unlocks ``/health`` details; unset shows none."""
    token = os.environ.get("WD_MONITOR_TOKEN", "").strip()
    if not token:
        return None
    if len(token) < MONITOR_TOKEN_MIN_LENGTH:
        raise ValueError(f"WD_MONITOR_TOKEN must be at least {MONITOR_TOKEN_MIN_LENGTH} characters long")
    return token


@dataclass(frozen=True)
class Settings:
    """Application settings; build with :func:`load_settings`."""

    database_url: str
    redis_url: str | None
    port: int
    allowed_origins: list[str] = field(default_factory=list)
    automatic_origins: bool = False
    dispatch_interval_s: float = 5.0
    due_soon_minutes: int = 60
    session_ttl_hours: int = 12
    login_max_failures: int = 5
    login_window_s: int = 300
    login_delay_s: int = 30
    login_max_delay_s: int = 900
    login_username_max_failures: int = 100
    login_address_max_failures: int = 200
    trusted_proxy_hops: int = 0
    timezone: str = "UTC"
    max_tasks_per_order: int = 2_000
    tablet_idle_minutes: float = 15.0
    state_expiry_minutes: float = 60.0
    monitor_token: str | None = field(default=None, repr=False)

    @property
    def namespace(self) -> str:
        """Redis key prefix of this deployment: one per database, so deployments can share a Redis."""
        digest = hashlib.sha1(self.database_url.encode(), usedforsecurity=False).hexdigest()[:10]
        return f"work_dispatch:{digest}"

    @property
    def is_sqlite(self) -> bool:
        """Whether the configured database is SQLite."""
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    """Read the settings from the environment.

    Returns:
        The settings, with defaults for the embedded single-process mode.
    """
    port = _env_int("WD_PORT", 3000)
    # Unset: this machine's own addresses and names on the port (the embedded default, for tablets).
    explicit_origins = _env_list("WD_ALLOWED_ORIGINS", [])
    return Settings(
        database_url=os.environ.get("WD_DATABASE_URL", "").strip() or f"sqlite:///{DEFAULT_SQLITE_PATH}",
        redis_url=os.environ.get("REFLEX_REDIS_URL", "").strip() or None,
        port=port,
        allowed_origins=explicit_origins or local_origins(port),
        automatic_origins=not explicit_origins,
        dispatch_interval_s=_env_float("WD_DISPATCH_INTERVAL_S", 5.0),
        due_soon_minutes=_env_int("WD_DUE_SOON_MINUTES", 60),
        session_ttl_hours=_env_int("WD_SESSION_TTL_HOURS", 12),
        login_max_failures=_env_int("WD_LOGIN_MAX_FAILURES", 5),
        login_window_s=_env_int("WD_LOGIN_WINDOW_S", 300),
        login_delay_s=_env_int("WD_LOGIN_DELAY_S", 30),
        login_max_delay_s=_env_int("WD_LOGIN_MAX_DELAY_S", 900),
        login_username_max_failures=_env_int("WD_LOGIN_USERNAME_MAX_FAILURES", 100),
        login_address_max_failures=_env_int("WD_LOGIN_ADDRESS_MAX_FAILURES", 200),
        trusted_proxy_hops=_env_int("WD_TRUSTED_PROXY_HOPS", 0),
        timezone=_shop_timezone(),
        max_tasks_per_order=max(1, _env_int("WD_MAX_TASKS_PER_ORDER", 2_000)),
        tablet_idle_minutes=max(0.0, _env_float("WD_TABLET_IDLE_MINUTES", 15.0)),
        state_expiry_minutes=max(1.0, _env_float("WD_STATE_EXPIRY_MINUTES", 60.0)),
        monitor_token=_monitor_token(),
    )


settings = load_settings()
