"""The one place configuration comes from: environment variables (``PLATETRACE_*``) or ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-dev-only"  # noqa: S105 - refused outside development below


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PLATETRACE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/platetrace"
    redis_url: str = "redis://127.0.0.1:6379/0"
    data_dir: Path = Path("var")
    shared_data_dir: Path = Field(
        default_factory=lambda: Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
    retention_days: int = Field(default=30, ge=1, le=3650)
    partitions_ahead_days: int = Field(default=7, ge=1, le=90)
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # The API SETs this database role (INSERT/SELECT only on audit_log); None keeps the login role.
    api_db_role: str | None = "platetrace_api"
    max_request_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_evidence_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_page_size: int = Field(default=500, ge=1, le=10_000)
    search_rate_per_minute: int = Field(default=60, ge=1)
    # The city's OpenStreetMap extract (.osm.pbf): the dashboard's road layer is drawn from it.
    city_osm: Path | None = None

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "development" and (
            self.secret_key.get_secret_value() == DEFAULT_SECRET
            or len(self.secret_key.get_secret_value()) < 32
        ):
            raise ValueError(
                "PLATETRACE_SECRET_KEY must be set to a random value of 32+ characters "
                f"outside development (environment={self.environment})"
            )
        return self

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
