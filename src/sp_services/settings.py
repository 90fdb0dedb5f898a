"""Settings from the environment (prefix ``SP_SERVICES_``)."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``SP_SERVICES_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SP_SERVICES_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    operator_key: str | None = None
    secret_key: str | None = None
    rate_limit: Literal["on", "off"] = "on"
    rate_limit_scale: float = 1.0
    redis_url: str | None = None
    max_body_bytes: int = 1024 * 1024
    # Bounds on waiting for the database, in seconds; a request answers 503 within request_timeout.
    db_connect_timeout: float = Field(default=3.0, gt=0)
    db_statement_timeout: float = Field(default=5.0, gt=0)
    db_lock_timeout: float = Field(default=2.0, gt=0)
    db_pool_timeout: float = Field(default=2.0, gt=0)
    request_timeout: float = Field(default=5.0, gt=0)
    # The budget of an analytics request (its unit of work may aggregate a year of a big seller's
    # history); each PostgreSQL statement stays bounded by db_statement_timeout.
    analytics_timeout: float = Field(default=30.0, gt=0)
    # Threads per worker that do database work at once (and pooled connections kept open): more
    # only adds contention for the interpreter lock; requests beyond them wait their turn.
    db_threads: int = Field(default=4, ge=1, le=64)
    # Keep serialised jobs and computed slots per worker for as long as their revision holds
    # ("off": read everything afresh on every request, e.g. to measure the cold path).
    read_cache: Literal["on", "off"] = "on"
    access_token_ttl_seconds: int = 3600
    # "package.module:function" called with (decrypted bytes, content type) -> True when clean.
    content_scanner: str | None = None
    # Proof-of-appointment documents: None keeps them under data_dir/blobs; "file:///abs/dir" or
    # "s3://bucket/optional/prefix" (with the s3_* fields below; unset ones fall back to boto3's defaults).
    blob_url: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = Field(default=None, repr=False)

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or an SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sp-services.db').resolve()}"

    def _local_secret(self, name: str, configured: str | None) -> str:
        # A value from the environment wins; otherwise one is made once and kept in the data dir.
        if configured:
            return configured
        path = self.data_dir / name
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(32)
        path.touch(mode=0o600)
        path.write_text(value)
        return value

    @cached_property
    def resolved_operator_key(self) -> str:
        return self._local_secret("operator_key", self.operator_key)

    @cached_property
    def resolved_secret_key(self) -> bytes:
        return self._local_secret("secret_key", self.secret_key).encode()
