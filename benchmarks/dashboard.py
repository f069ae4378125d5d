"""How long the map dashboard takes to become usable with a whole city's cameras.

    .venv/bin/python -m benchmarks.dashboard --cameras 3094 --runs 10

Seeds a scratch database with ``--cameras`` cameras placed on the HCM map by the tracing
package's layout tool (about a fifth of them broken) and one admin, starts the API on it
(uvicorn, a subprocess), and loads the page in headless Chromium ``--runs`` times as a
signed-in user: the time from navigation start until roads, cameras and panels are painted
(the page's ``platetrace:interactive`` mark). Goal: under 2 s.

Baselines, on the same data in the same browser and the same run: the page drawn the
straightforward Leaflet way, ``L.geoJSON`` for the roads and one ``L.circleMarker`` per
camera, on Leaflet's canvas renderer and on its default SVG renderer. Rounds alternate the
order of the three. Needs ``../shared/data/osm/hcm_2018.osm.pbf`` and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, Route, sync_playwright
from sqlalchemy import create_engine, update

from api.security import hash_password
from benchmarks.common import print_table, scratch_database
from platetrace.settings import get_settings
from store.cameras import NewCamera, create_cameras
from store.models import Camera
from store.users import NewUser, Role, create_user
from tracing.cameras import place_cameras
from tracing.graph import load_graph

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USER, PASSWORD = "bench-admin", "bench-admin-password"
ROOT = Path(__file__).resolve().parents[1]

# The baseline page: served by the browser itself (route interception) at the service's
# origin, so it fetches the same data with the same token, and loads the same Leaflet.
BASELINE_PAGE = """<!doctype html><html><head>
<link rel="stylesheet" href="/dashboard/vendor/leaflet/leaflet.css">
<script src="/dashboard/vendor/leaflet/leaflet.js"></script>
<style>html, body, #map { margin: 0; height: 100%; }</style></head>
<body><div id="map"></div><script>
(async () => {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem("platetrace.token") };
  const map = L.map("map", { preferCanvas: PREFER_CANVAS }).setView([10.78, 106.7], 13);
  const [roads, cameras] = await Promise.all([
    fetch("/map/roads", { headers }).then((r) => r.json()),
    fetch("/map/cameras", { headers }).then((r) => r.json()),
  ]);
  const layer = L.geoJSON(roads, { interactive: false, style: { weight: 1.5 } }).addTo(map);
  map.fitBounds(layer.getBounds(), { animate: false });
  for (const f of cameras.features) {
    const [lon, lat] = f.geometry.coordinates;
    L.circleMarker([lat, lon], { radius: 3 }).bindPopup(f.properties.code).addTo(map);
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  performance.mark("platetrace:interactive");
  document.body.dataset.ready = "true";
})();
</script></body></html>"""


def seed(url: str, cameras: int) -> None:
    city = get_settings().shared_data_dir / "osm" / "hcm_2018.osm.pbf"
    graph = load_graph(city, cache_dir=ROOT / "var" / "cache")
    planned = place_cameras(graph, count=cameras, city="HCM")
    engine = create_engine(url)
    with engine.begin() as conn:
        statuses = ("online",) * 7 + ("offline", "stale")  # a fifth broken
        create_cameras(
            conn,
            [
                NewCamera(
                    code=c.code,
                    name=c.name,
                    lat=c.lat,
                    lon=c.lon,
                    heading=c.heading,
                    graph_node=c.node,
                    status=statuses[i % len(statuses)],
                )
                for i, c in enumerate(planned)
            ],
        )
        conn.execute(update(Camera).values(last_frame_at=Camera.created_at))
        create_user(
            conn, NewUser(username=USER, password_hash=hash_password(PASSWORD), role=Role.ADMIN)
        )
    engine.dispose()


def serve(url: str, port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    city = get_settings().shared_data_dir / "osm" / "hcm_2018.osm.pbf"
    (data_dir / "cache").symlink_to(ROOT / "var" / "cache", target_is_directory=True)
    env = {
        **os.environ,
        "PLATETRACE_DATABASE_URL": url,
        "PLATETRACE_CITY_OSM": str(city),
        "PLATETRACE_DATA_DIR": str(data_dir),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the service did not come up in 60 s")


def measure(page: Page, load: Callable[[], Any]) -> dict[str, float]:
    """One load: ms to usable, and the server's time and bytes for the two data requests."""
    load()
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    result: dict[str, float] = page.evaluate(
        """() => {
          const out = {ready: performance.getEntriesByName("platetrace:interactive")[0].startTime};
          for (const e of performance.getEntriesByType("resource")) {
            const name = new URL(e.name).pathname.replace("/map/", "");
            if (name === "roads" || name === "cameras") {
              out[name + "_ms"] = e.responseEnd - e.requestStart;
              out[name + "_kb"] = e.encodedBodySize / 1024;
            }
          }
          return out;
        }"""
    )
    return result


def _serve(html: str) -> Callable[[Route], None]:
    # Playwright passes the request too when a handler takes two arguments: take one.
    def handler(route: Route) -> None:
        route.fulfill(body=html, content_type="text/html")

    return handler


def run(base: str, runs: int) -> dict[str, list[dict[str, float]]]:
    results: dict[str, list[dict[str, float]]] = {"dashboard": [], "canvas": [], "svg": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        for kind in ("canvas", "svg"):
            html = BASELINE_PAGE.replace("PREFER_CANVAS", "true" if kind == "canvas" else "false")
            context.route(f"{base}/baseline-{kind}.html", _serve(html))
        page = context.new_page()
        page.goto(f"{base}/dashboard/")
        page.fill("#login-form [name=username]", USER)
        page.fill("#login-form [name=password]", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        loads = {
            "dashboard": lambda: page.goto(f"{base}/dashboard/"),
            "canvas": lambda: page.goto(f"{base}/baseline-canvas.html"),
            "svg": lambda: page.goto(f"{base}/baseline-svg.html"),
        }
        for round_ in range(runs):
            order = list(loads) if round_ % 2 == 0 else list(reversed(loads))
            for kind in order:
                results[kind].append(measure(page, loads[kind]))
        browser.close()
    return results


def report(results: dict[str, list[dict[str, float]]], cameras: int) -> None:
    ours = statistics.median(r["ready"] for r in results["dashboard"])
    names = {
        "dashboard": "dashboard (own canvas layers)",
        "canvas": "baseline: Leaflet vectors, canvas",
        "svg": "baseline: Leaflet vectors, SVG",
    }
    rows = []
    for kind, samples in results.items():
        ready = sorted(r["ready"] for r in samples)
        p50 = statistics.median(ready)
        p90 = ready[min(len(ready) - 1, round(0.9 * (len(ready) - 1)))]
        rows.append([names[kind], round(p50), round(p90), round(ready[-1]), f"{p50 / ours:.2f}×"])
    print(f"\n{cameras} cameras, {len(results['dashboard'])} loads each, 1366×768:")
    print_table(["page", "p50 ms", "p90 ms", "max ms", "p50 vs dashboard"], rows)
    loads = results["dashboard"]
    for name in ("roads", "cameras"):
        ms = statistics.median(r[f"{name}_ms"] for r in loads)
        print(f"/map/{name}: p50 {ms:.0f} ms to serve, {loads[0][f'{name}_kb']:.0f} KB gzipped")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cameras", type=int, default=3094)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--port", type=int, default=8971)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is required (Debian's chromium package)")
    with scratch_database("platetrace_bench_dashboard") as url:
        seed(url, args.cameras)
        with tempfile.TemporaryDirectory() as data_dir:
            server = serve(url, args.port, Path(data_dir))
            try:
                results = run(f"http://127.0.0.1:{args.port}", args.runs)
            finally:
                server.terminate()
                server.wait(timeout=10)
    report(results, args.cameras)


if __name__ == "__main__":
    main()
