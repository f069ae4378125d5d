from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from platetrace.settings import DEFAULT_SECRET, Settings


def test_default_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="PLATETRACE_SECRET_KEY"):
        Settings(environment="production", secret_key=SecretStr(DEFAULT_SECRET))
    with pytest.raises(ValidationError, match="32"):
        Settings(environment="production", secret_key=SecretStr("short"))


def test_development_accepts_the_default_and_production_a_real_secret() -> None:
    assert Settings(environment="development", secret_key=SecretStr(DEFAULT_SECRET))
    settings = Settings(environment="production", secret_key=SecretStr("x" * 40))
    assert settings.retention_days == 30


def test_retention_must_be_positive() -> None:
    with pytest.raises(ValidationError):
        Settings(retention_days=0)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATETRACE_RETENTION_DAYS", "45")
    assert Settings().retention_days == 45
