// Search panel: plate (exact, wildcard, OCR-fuzzy), window, colour and an area drawn on the
// map; results on the map and in a table, with the evidence crop of the chosen sighting.

import { download, imageURL, request } from "./api.js";
import {
  $,
  WINDOW_MS,
  attempt,
  el,
  formatTime,
  fromLocalInput,
  onPanel,
  saveWithProgress,
  toLocalInput,
} from "./ui.js";

const HIT_STYLE = {
  radius: 8,
  weight: 2,
  color: "#ffffff",
  fillColor: "#7b2fbe",
  fillOpacity: 0.9,
};
const CHOSEN_STYLE = { radius: 11, fillColor: "#ff6a00" };

// Click corners on the map, then "Finish": a polygon works with a mouse and on a touch screen.
class AreaDrawer {
  constructor(map, cameras, onChange) {
    this.map = map;
    this.cameras = cameras;
    this.group = L.layerGroup().addTo(map); // holds the shape, so the panel can hide it
    this.onChange = onChange;
    this.points = [];
    this.shape = null;
    this.drawing = false;
    this.click = (event) => this.add(event.latlng);
  }

  start() {
    this.clear();
    this.drawing = true;
    this.cameras.setInteractive(false);
    this.map.getContainer().style.cursor = "crosshair";
    this.map.doubleClickZoom.disable();
    this.map.on("click", this.click);
    this.onChange();
  }

  add(latlng) {
    this.points.push(latlng);
    if (this.shape) this.shape.setLatLngs(this.points);
    else
      this.shape = L.polygon(this.points, {
        color: "#7b2fbe",
        weight: 2,
        dashArray: "6 4",
      }).addTo(this.group);
    this.onChange();
  }

  finish() {
    this.drawing = false;
    this.cameras.setInteractive(true);
    this.map.getContainer().style.cursor = "";
    this.map.doubleClickZoom.enable();
    this.map.off("click", this.click);
    if (this.points.length < 3) this.clear();
    else this.shape.setStyle({ dashArray: null, fillOpacity: 0.08 });
    this.onChange();
  }

  clear() {
    this.shape?.remove();
    this.shape = null;
    this.points = [];
    this.onChange();
  }

  // GeoJSON wants [lon, lat] and a closed ring.
  geometry() {
    if (this.drawing || this.points.length < 3) return null;
    const ring = this.points.map((p) => [p.lng, p.lat]);
    return { type: "Polygon", coordinates: [[...ring, ring[0]]] };
  }
}

export function initSearch({ map, cameras }) {
  const form = $("#search-form");
  const body = $("#search-results tbody");
  const results = L.featureGroup().addTo(map);
  const markers = new Map();
  let first = null; // the query behind the rows shown, for the export
  let last = null; // its next page, for "More results"
  let purpose = {};

  const now = new Date();
  form.start.value = toLocalInput(new Date(now.getTime() - WINDOW_MS));
  form.end.value = toLocalInput(now);

  const area = new AreaDrawer(map, cameras, () => {
    const points = area.points.length;
    $("#area-state").textContent = area.drawing
      ? `click the map: ${points} corner${points === 1 ? "" : "s"}`
      : area.geometry()
        ? `polygon of ${points} corners`
        : "whole city";
    $("#draw-area").hidden = area.drawing;
    $("#finish-area").hidden = !area.drawing;
    $("#clear-area").hidden = area.drawing || !area.geometry();
  });
  onPanel("search", (open) => {
    for (const layer of [results, area.group]) open ? layer.addTo(map) : layer.remove();
    if (!open && area.drawing) area.finish();
  });
  $("#draw-area").addEventListener("click", () => area.start());
  $("#finish-area").addEventListener("click", () => area.finish());
  $("#clear-area").addEventListener("click", () => area.clear());

  async function showEvidence(hit) {
    const figure = $("#evidence");
    if (!hit.evidence_key) {
      figure.hidden = true;
      return;
    }
    const url = await attempt(() => imageURL(`/sightings/${hit.id}/evidence`, purpose));
    if (!url) return;
    const img = $("img", figure);
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.src = url;
    img.alt = `Evidence for ${hit.plate} at ${hit.camera_code}`;
    $("figcaption", figure).textContent =
      `${hit.plate_raw} · ${hit.camera_code} · ${formatTime(hit.observed_at)}`;
    figure.hidden = false;
  }

  function choose(hit) {
    for (const [id, marker] of markers) marker.setStyle(id === hit.id ? CHOSEN_STYLE : HIT_STYLE);
    for (const row of body.children)
      row.classList.toggle("current", Number(row.dataset.id) === hit.id);
    map.flyTo([hit.lat, hit.lon], Math.max(map.getZoom(), 16), {
      duration: 0.5,
    });
    showEvidence(hit);
  }

  function show(hits) {
    for (const hit of hits) {
      const marker = L.circleMarker([hit.lat, hit.lon], HIT_STYLE)
        // An element, not a string: Leaflet would read a string as HTML.
        .bindTooltip(el("span", {}, `${hit.plate} · ${formatTime(hit.observed_at)}`))
        .on("click", () => choose(hit))
        .addTo(results);
      markers.set(hit.id, marker);
      const row = el("tr", {}, [
        el("td", {}, formatTime(hit.observed_at)),
        el("td", {}, hit.plate + (hit.distance ? ` (≈${hit.distance})` : "")),
        el("td", {}, hit.camera_code),
        el("td", {}, hit.colour || "—"),
        el("td", {}, hit.confidence.toFixed(2)),
      ]);
      row.dataset.id = hit.id;
      row.addEventListener("click", () => choose(hit));
      body.append(row);
    }
  }

  async function run(query, more) {
    const summary = $("#search-summary");
    summary.textContent = "searching…";
    const page = await attempt(
      async () => (await request("POST", "/search", { params: purpose, json: query })).json(),
      (message) => (summary.textContent = message),
    );
    if (!page) return;
    if (!more) {
      first = query;
      $("#search-actions").hidden = false;
      body.replaceChildren();
      results.clearLayers();
      markers.clear();
      $("#evidence").hidden = true;
    }
    show(page.hits);
    last = page.next_cursor ? { ...query, cursor: page.next_cursor } : null;
    $("#search-more").hidden = !last;
    const total = page.total ?? null;
    if (!more) {
      summary.textContent =
        total === null
          ? `${page.hits.length} sightings`
          : `${total}${page.total_capped ? "+" : ""} sightings`;
      if (page.hits.length) map.fitBounds(results.getBounds(), { padding: [30, 30], maxZoom: 16 });
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (area.drawing) area.finish();
    purpose = {
      reason: form.reason.value.trim(),
      case_id: form.case_id.value.trim(),
    };
    const fuzzy = form.mode.value === "fuzzy";
    run(
      {
        plate: form.plate.value.trim(),
        max_distance: fuzzy ? 1 : 0,
        start: fromLocalInput(form.start.value),
        end: fromLocalInput(form.end.value),
        colour: form.colour.value || null,
        area: area.geometry(),
      },
      false,
    );
  });
  $("#search-more").addEventListener("click", () => last && run(last, true));
  // The server streams the CSV; the bar counts bytes, as the total is not known in advance.
  $("#search-export").addEventListener("click", () =>
    saveWithProgress({
      bar: $("#search-export-progress"),
      state: $("#search-export-state"),
      label: "sightings",
      fallbackName: "sightings.csv",
      start: (progress) =>
        download("POST", "/exports/sightings", { params: purpose, json: first }, progress),
    }),
  );
}
