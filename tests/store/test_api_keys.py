from __future__ import annotations

import pytest
from sqlalchemy import Connection

from store.api_keys import NewApiKey, create_api_key, find_api_key, revoke_api_key
from store.errors import InvalidInput, NotFound
from store.users import Role


def test_api_keys_are_found_by_hash_until_revoked(conn: Connection) -> None:
    key = create_api_key(conn, NewApiKey(name="worker", prefix="ptk_ab", key_hash="h" * 64))
    found = find_api_key(conn, "h" * 64)
    assert found == key and found.principal.role is Role.SERVICE
    assert revoke_api_key(conn, key.id).revoked_at is not None
    assert find_api_key(conn, "h" * 64) is None
    with pytest.raises(NotFound):
        revoke_api_key(conn, 999_999)
    with pytest.raises(InvalidInput):
        create_api_key(conn, NewApiKey(name=" ", prefix="p", key_hash="x" * 64))
