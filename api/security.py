"""Credentials: argon2 password hashes, short-lived JWT access tokens, service-account API keys.

API keys are 32 random bytes, so a plain SHA-256 is enough at rest (nothing to brute-force)
and lets a request find its key with one indexed lookup instead of an argon2 per key.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from platetrace.settings import Settings

_ALGORITHM = "HS256"
_AUDIENCE = "platetrace-api"
KEY_PREFIX = "ptk_"
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class InvalidToken(Exception):
    """The access token is malformed, expired or not ours."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_at: datetime


def issue_token(user_id: int, settings: Settings, *, now: datetime | None = None) -> AccessToken:
    issued = now or datetime.now(UTC)
    expires = issued + timedelta(minutes=settings.access_token_minutes)
    claims = {"sub": str(user_id), "aud": _AUDIENCE, "iat": issued, "exp": expires}
    token = jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=_ALGORITHM)
    return AccessToken(token=token, expires_at=expires)


def token_user_id(token: str, settings: Settings) -> int:
    """The user id a valid token was issued to; ``InvalidToken`` otherwise."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[_ALGORITHM],
            audience=_AUDIENCE,
            options={"require": ["sub", "exp", "iat", "aud"]},
        )
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class NewKey:
    plaintext: str  # shown once, never stored
    prefix: str
    key_hash: str


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> NewKey:
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(
        plaintext=plaintext,
        prefix=plaintext[: len(KEY_PREFIX) + 6],
        key_hash=hash_api_key(plaintext),
    )
