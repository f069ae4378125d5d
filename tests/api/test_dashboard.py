"""The dashboard's static shell: served without sign-in, from our own files only."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.routes.dashboard import ASSETS


def test_root_leads_to_the_dashboard(client: TestClient) -> None:
    for path in ("/", "/dashboard"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 307
        assert response.headers["location"] == "/dashboard/"


def test_the_page_is_served_with_a_policy_that_keeps_it_on_this_host(client: TestClient) -> None:
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert "vendor/leaflet/leaflet.js" in response.text


@pytest.mark.parametrize(
    ("asset", "kind"),
    [
        ("vendor/leaflet/leaflet.js", "javascript"),
        ("vendor/leaflet/leaflet.css", "text/css"),
        ("js/main.js", "javascript"),
        ("app.css", "text/css"),
    ],
)
def test_assets_are_served(client: TestClient, asset: str, kind: str) -> None:
    response = client.get(f"/dashboard/{asset}")
    assert response.status_code == 200
    assert kind in response.headers["content-type"]


@pytest.mark.parametrize(
    "asset", ["nothing.js", "%2e%2e/routes/dashboard.py", "..%2fmain.py", "js"]
)
def test_unknown_files_and_escapes_are_not_found(client: TestClient, asset: str) -> None:
    response = client.get(f"/dashboard/{asset}")
    assert response.status_code == 404
    assert "no dashboard file" in response.json()["detail"]


def test_our_own_files_name_no_other_host() -> None:
    """The page must work on a closed network: no CDN, no fonts or tiles from elsewhere."""
    ours = [p for p in ASSETS.rglob("*") if p.is_file() and "vendor" not in p.parts]
    assert ours
    for path in ours:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text), path


def test_the_bundled_map_library_is_leaflet_with_its_licence() -> None:
    vendor = ASSETS / "vendor" / "leaflet"
    assert (vendor / "LICENSE").read_text().startswith("BSD 2-Clause License")
    assert (vendor / "leaflet.js").stat().st_size < 200_000
