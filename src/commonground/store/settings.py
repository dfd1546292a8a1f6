"""Settings of the hub service, read from the environment (``COMMONGROUND_*``) and built on demand.

The operational store is SQLite under the data directory unless ``COMMONGROUND_DATABASE_URL``
names another database (PostgreSQL in production). In production (``COMMONGROUND_ENVIRONMENT=production``)
unsafe defaults are refused: a secret key must be given, cookies must be secure, the database must be PostgreSQL.
"""

from __future__ import annotations

import secrets
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from commonground.errors import UserError
from commonground.settings import DEFAULT_DATA_DIR, Settings

KEY_FILE_NAME = "hub-secret-key"


class HubSettings(BaseSettings):
    """Everything the hub service (database, sign-in, API) needs; ``commonground.settings.Settings`` supplies
    the data directory."""

    model_config = SettingsConfigDict(env_prefix="COMMONGROUND_", extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    environment: Literal["development", "production"] = "development"
    database_url: str | None = None
    """SQLAlchemy URL of the operational store; default ``sqlite:///<data_dir>/operational.sqlite``."""
    secret_key: SecretStr | None = None
    """Signs CSRF tokens and the OIDC state cookie. Development: generated once into the data directory."""
    cookie_secure: bool = True
    """Session cookies only over HTTPS (``__Host-`` prefix). Turn off only for plain-HTTP local development."""
    session_hours: float = Field(default=8.0, gt=0, le=24)
    session_idle_minutes: float = Field(default=30.0, gt=0)
    login_max_failures: int = Field(default=5, ge=1)
    """Failed sign-ins for one email address (known or not) within ``lockout_minutes`` after which each further
    attempt for it must wait (429 with ``Retry-After``): ``login_delay_seconds`` after the last failure, doubling
    with each further failure up to ``login_max_delay_seconds``. Nothing locks an account: once the wait has
    passed, the right password signs in."""
    lockout_minutes: float = Field(default=15.0, gt=0)
    """The window in which an email address's failed sign-ins count (a success starts it again)."""
    login_delay_seconds: float = Field(default=30.0, gt=0, le=3600)
    login_max_delay_seconds: float = Field(default=300.0, gt=0, le=3600)
    login_rate_per_minute: int = Field(default=10, ge=1)
    """Failed sign-in attempts allowed from one client address in a minute; more get 429. Successful sign-ins do not
    count (a team behind one address signs in at the start of a shift)."""
    trusted_proxies: str = ""
    """Addresses or networks (comma-separated, e.g. ``10.0.0.5,10.1.0.0/16``) of the reverse proxies whose
    ``X-Forwarded-For`` names the client. Empty (the default): the header is ignored, and the client is the address
    the connection comes from."""
    oidc_issuer: str | None = None
    """OIDC provider (its ``/.well-known/openid-configuration`` is read); unset: local accounts only."""
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_label: str = "your organisation's sign-in"
    smtp_host: str = "127.0.0.1"
    """The mail server the outbox sends through (``commonground hub send-notices``)."""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "commonground@localhost"
    """The From address of the outbox's emails."""
    smtp_starttls: bool = False
    """Upgrade the SMTP connection with STARTTLS (certificate checked) before sending."""
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    public_url: str = "http://127.0.0.1:8000"
    """The hub's address as people reach it, for links in emails."""
    worker_threads: int = Field(default=8, ge=1, le=200)
    """Threads per server process that run the routes' work on the store and the person view (anyio's default is
    40). A process runs Python on one core at a time, so more threads than this only queue for it, less fairly:
    with 50 clients on two processes, 8 threads halved the 95th percentile against 40 at the same throughput."""
    database_pool: int = Field(default=16, ge=1, le=200)
    """Connections to the operational store each server process keeps, and so the requests it serves at once
    (the rest wait their turn without holding anything). Several processes share PostgreSQL's
    ``max_connections`` (100 by default)."""

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        if self.environment == "production":
            problems = []
            if self.secret_key is None or len(self.secret_key.get_secret_value()) < 32:
                problems.append("COMMONGROUND_SECRET_KEY must be set (32 characters or more)")
            if not self.cookie_secure:
                problems.append("COMMONGROUND_COOKIE_SECURE cannot be false")
            if not (self.database_url or "").startswith("postgresql"):
                problems.append("COMMONGROUND_DATABASE_URL must name a PostgreSQL database")
            if problems:
                raise ValueError("unsafe settings for production: " + "; ".join(problems))
        try:
            self.trusted_proxy_networks  # noqa: B018  (parsed here so that a mistake is refused at start)
        except ValueError:
            raise ValueError(
                "COMMONGROUND_TRUSTED_PROXIES must list IP addresses or networks, comma-separated"
            ) from None
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError("COMMONGROUND_OIDC_CLIENT_ID is needed with COMMONGROUND_OIDC_ISSUER")
        return self

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """``trusted_proxies`` as networks (a single address is a network of one)."""
        return tuple(ip_network(part.strip(), strict=False) for part in self.trusted_proxies.split(",") if part.strip())

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'operational.sqlite').resolve()}"

    def resolved_secret_key(self) -> str:
        """The secret key; in development, one generated on first use and kept in the data directory."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / KEY_FILE_NAME
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48), encoding="ascii")
        return path.read_text(encoding="ascii").strip()


def hub_settings(settings: Settings | None = None, **overrides: object) -> HubSettings:
    """Hub settings from the environment, with the data directory of ``settings`` (the CLI's ``--data-dir``)
    and any ``overrides``; an unsafe or invalid setting is a :class:`UserError` naming the problem."""
    update: dict[str, object] = dict(overrides)
    if settings is not None:
        update.setdefault("data_dir", settings.data_dir)
    try:
        return HubSettings(**update)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        raise UserError(f"hub settings: {problems}") from None
