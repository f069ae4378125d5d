from __future__ import annotations

import pytest
from sqlalchemy import Connection, select

from store.cameras import NewCamera, create_camera
from store.errors import InvalidInput, NotFound
from store.models import Camera
from store.users import (
    NewUser,
    Principal,
    Role,
    agency_camera_ids,
    camera_filter,
    create_agency,
    create_user,
    find_user,
    get_user,
    grant_cameras,
    list_users,
    may_use_camera,
    revoke_camera,
    update_user,
    visible_camera_ids,
)


def camera(conn: Connection, number: int) -> int:
    code = f"HCM-TD-W07-{number:04d}"
    return create_camera(conn, NewCamera(code=code, name=code, lat=10.8, lon=106.7)).id


def test_users_belong_to_agencies_by_role(conn: Connection) -> None:
    agency = create_agency(conn, code="PC-TD", name="Thủ Đức police")
    user = create_user(conn, NewUser("lan.nguyen", "hash", Role.INVESTIGATOR, agency.id))
    assert get_user(conn, user.id) == user
    assert find_user(conn, "lan.nguyen") == user
    assert find_user(conn, "nobody") is None
    assert create_user(conn, NewUser("root", "hash", Role.ADMIN)).agency_id is None
    with pytest.raises(InvalidInput, match="must belong to an agency"):
        create_user(conn, NewUser("drifter", "hash", Role.DISPATCHER))
    with pytest.raises(InvalidInput, match="API keys"):
        create_user(conn, NewUser("robot", "hash", Role.SERVICE))
    with pytest.raises(InvalidInput, match="taken"):
        create_user(conn, NewUser("lan.nguyen", "hash", Role.AUDITOR))
    with pytest.raises(InvalidInput, match="username"):
        create_user(conn, NewUser("Bad Name", "hash", Role.AUDITOR))
    with pytest.raises(NotFound):
        create_user(conn, NewUser("ghost", "hash", Role.OPERATOR, 999_999))


def test_updates_keep_the_rules(conn: Connection) -> None:
    agency = create_agency(conn, code="PC-TD", name="police")
    user = create_user(conn, NewUser("an.tran", "hash", Role.AUDITOR))
    with pytest.raises(InvalidInput):
        update_user(conn, user.id, role=Role.INVESTIGATOR)
    moved = update_user(conn, user.id, role=Role.INVESTIGATOR, agency_id=agency.id, active=False)
    assert (moved.role, moved.agency_id, moved.active) == (Role.INVESTIGATOR, agency.id, False)
    assert update_user(conn, user.id, password_hash="new").password_hash == "new"
    with pytest.raises(NotFound):
        update_user(conn, 999_999, active=True)
    assert [u.id for u in list_users(conn, limit=10, after_id=user.id - 1)] == [user.id]


def test_agency_codes_are_validated_and_unique(conn: Connection) -> None:
    create_agency(conn, code="PC-TD", name="police")
    with pytest.raises(InvalidInput, match="already exists"):
        create_agency(conn, code="PC-TD", name="again")
    with pytest.raises(InvalidInput, match="code"):
        create_agency(conn, code="pc td", name="x")
    with pytest.raises(InvalidInput, match="name"):
        create_agency(conn, code="PC-Q1", name=" ")


def test_camera_filter_scopes_by_agency(conn: Connection) -> None:
    a = create_agency(conn, code="PC-A", name="A").id
    b = create_agency(conn, code="PC-B", name="B").id
    cam_a, cam_b, shared = camera(conn, 1), camera(conn, 2), camera(conn, 3)
    assert grant_cameras(conn, a, [cam_a, shared, shared]) == 2
    assert grant_cameras(conn, a, [cam_a]) == 0
    grant_cameras(conn, b, [cam_b, shared])
    mine = Principal(id=1, name="x", role=Role.INVESTIGATOR, agency_id=a)
    admin = Principal(id=2, name="y", role=Role.ADMIN, agency_id=None)
    fleet = Principal(id=3, name="z", role=Role.SERVICE, agency_id=None)
    orphan = Principal(id=4, name="w", role=Role.AUDITOR, agency_id=None)

    def seen(who: Principal) -> set[int]:
        query = select(Camera.id).where(camera_filter(who, Camera.id))
        return set(conn.execute(query).scalars()) & {cam_a, cam_b, shared}

    assert seen(mine) == {cam_a, shared}
    assert seen(admin) == seen(fleet) == {cam_a, cam_b, shared}
    assert seen(orphan) == set()
    assert visible_camera_ids(conn, mine) == sorted([cam_a, shared])
    assert visible_camera_ids(conn, admin) is None
    assert may_use_camera(conn, mine, shared) and not may_use_camera(conn, mine, cam_b)
    revoke_camera(conn, a, shared)
    assert agency_camera_ids(conn, a) == [cam_a]
    with pytest.raises(NotFound):
        revoke_camera(conn, a, shared)
    with pytest.raises(InvalidInput, match="unknown camera"):
        grant_cameras(conn, a, [999_999])
