"""Backends registered by name, each with its own pydantic config, built from plain options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T")
C = TypeVar("C", bound=BaseModel)


class BackendError(ValueError):
    """An unknown backend name or options its config refuses."""


class Registry(Generic[T]):
    """Named factories of one kind of backend (detectors, readers)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, tuple[type[BaseModel], Callable[[Any], T]]] = {}

    def register(
        self, name: str, config: type[C]
    ) -> Callable[[Callable[[C], T]], Callable[[C], T]]:
        def add(factory: Callable[[C], T]) -> Callable[[C], T]:
            if name in self._factories:
                raise BackendError(f"{self.kind} {name!r} is registered twice")
            self._factories[name] = (config, factory)
            return factory

        return add

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str, **options: object) -> T:
        try:
            config, factory = self._factories[name]
        except KeyError:
            raise BackendError(f"no {self.kind} named {name!r}; known: {self.names()}") from None
        try:
            return factory(config.model_validate(options))
        except ValidationError as e:
            raise BackendError(f"bad options for {self.kind} {name!r}: {e}") from e
