"""Errors the store raises. Callers map them to a 4xx or a CLI message; none is a crash."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class InvalidInput(StoreError, ValueError):
    """The caller passed something the store refuses to write; nothing was written."""


class NotFound(StoreError, LookupError):
    """A row the caller named does not exist."""
