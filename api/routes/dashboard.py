"""The map dashboard: a static page and its assets, served by the API itself.

The shell needs no sign-in; everything it shows comes from authenticated API calls made with
the token from ``/auth/token``. Its scripts, styles and map library are all in
``api/dashboard/`` (Leaflet is built into ``vendor/`` from ``web/``), so the page works on a
closed network, and the content security policy below keeps it there: the browser refuses
any script, style, image or connection that is not from this service.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse, RedirectResponse

router = APIRouter(include_in_schema=False)

ASSETS = Path(__file__).resolve().parents[1] / "dashboard"
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; media-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidated on every load (the ETag makes that cheap), so an upgrade shows at once.
    "Cache-Control": "no-cache",
}


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/dashboard/", status.HTTP_307_TEMPORARY_REDIRECT)


@router.get("/dashboard")
def dashboard_bare() -> RedirectResponse:
    # Relative asset URLs in the page resolve against /dashboard/, not /.
    return RedirectResponse("/dashboard/", status.HTTP_307_TEMPORARY_REDIRECT)


@router.get("/dashboard/{asset:path}")
def dashboard(asset: str) -> FileResponse:
    """The page (for an empty path) or one of its files."""
    path = (ASSETS / (asset or "index.html")).resolve()
    # resolve() folds "..", so anything outside the asset folder is refused here.
    if not path.is_relative_to(ASSETS) or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no dashboard file {asset!r}")
    return FileResponse(path, headers=_HEADERS)
