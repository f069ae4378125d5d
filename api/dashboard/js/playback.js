// Route playback: the reconstructed route of one plate, drawn per segment (observed solid,
// inferred dashed, impossible travel red), with a time slider over the camera hits and a
// marker that moves along the streets in time.

import { download, getJSON } from "./api.js";
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

const STYLE = {
  observed: { color: "#1f6feb", weight: 5, opacity: 0.95 },
  inferred: { color: "#1f6feb", weight: 4, opacity: 0.9, dashArray: "8 8" },
  impossible: { color: "#d93025", weight: 4, opacity: 0.95, dashArray: "2 8" },
};
const PLAY_SECONDS = 20; // a whole route plays in about this long, however long it took

// A segment counts as observed when the cameras leave no real choice of streets: one
// candidate path, or one that holds nearly all the posterior. Otherwise it is inferred.
const PINNED = 0.9;

function pinned(verdict) {
  return Boolean(verdict) && (verdict.candidates === 1 || verdict.confidence >= PINNED);
}

// The API's route (GeoJSON for the timed street geometry, JSON for the per-segment verdicts)
// as what the player needs: hits in time order, and segments with their timed vertices.
function routeModel(geojson, summary) {
  const hits = geojson.features
    .filter((f) => f.properties.kind === "hit")
    .map((f) => ({
      trip: f.properties.trip,
      camera: f.properties.camera_id,
      lon: f.geometry.coordinates[0],
      lat: f.geometry.coordinates[1],
      time: Date.parse(f.properties.observed_at),
    }))
    .sort((a, b) => a.time - b.time);
  const vertices = geojson.features
    .filter((f) => f.properties.kind === "route")
    .flatMap((f) =>
      f.geometry.coordinates.map(([lon, lat], i) => ({
        lat,
        lon,
        time: Date.parse(f.properties.times[i]),
      })),
    )
    .sort((a, b) => a.time - b.time);
  const verdicts = summary.trips.flatMap((t) => t.segments);
  const segments = [];
  const used = new Set(); // a camera pair can repeat: each verdict belongs to one segment
  for (let i = 0; i + 1 < hits.length; i += 1) {
    const [start, end] = [hits[i], hits[i + 1]];
    if (start.trip !== end.trip) continue; // a stop: the vehicle was parked, nothing to draw
    const index = verdicts.findIndex(
      (s, k) => !used.has(k) && s.from_camera === start.camera && s.to_camera === end.camera,
    );
    used.add(index);
    const verdict = verdicts[index];
    const inside = vertices.filter((v) => v.time > start.time && v.time < end.time);
    const kind = verdict?.impossible ? "impossible" : pinned(verdict) ? "observed" : "inferred";
    segments.push({
      kind,
      confidence: verdict?.confidence,
      // An impossible pair has no street path: a straight line says "this cannot be driven".
      points: kind === "impossible" ? [start, end] : [start, ...inside, end],
    });
  }
  return {
    hits,
    segments,
    impossible: segments.filter((s) => s.kind === "impossible").length,
  };
}

// Where the vehicle was at `time`: along the segment it was driving, else at the last camera.
function positionAt(model, time) {
  const { hits, segments } = model;
  if (time <= hits[0].time) return hits[0];
  for (const segment of segments) {
    const points = segment.points;
    if (time < points[0].time || time > points[points.length - 1].time) continue;
    for (let i = 1; i < points.length; i += 1) {
      const [a, b] = [points[i - 1], points[i]];
      if (time > b.time) continue;
      const share = b.time > a.time ? (time - a.time) / (b.time - a.time) : 1;
      return {
        lat: a.lat + (b.lat - a.lat) * share,
        lon: a.lon + (b.lon - a.lon) * share,
      };
    }
  }
  return [...hits].reverse().find((h) => h.time <= time) || hits[hits.length - 1];
}

export function initPlayback({ map, cameras }) {
  const form = $("#route-form");
  const slider = $("#timeline");
  const layer = L.featureGroup().addTo(map);
  let model = null;
  let request = null; // plate, window and purpose of the route shown, for exports
  let playing = null;

  const now = new Date();
  form.start.value = toLocalInput(new Date(now.getTime() - WINDOW_MS));
  form.end.value = toLocalInput(now);

  const vehicle = L.circleMarker([0, 0], {
    radius: 9,
    weight: 3,
    color: "#ffffff",
    fillColor: "#ff6a00",
    fillOpacity: 1,
  });

  // The playback clock, in epoch ms; the slider shows it (rounded to its steps).
  let clock = 0;
  const first = () => model.hits[0].time;
  const last = () => model.hits[model.hits.length - 1].time;
  const span = () => last() - first() || 1;

  function seek(time) {
    clock = Math.min(Math.max(time, first()), last());
    slider.value = String(Math.round(((clock - first()) / span()) * Number(slider.max)));
    const { lat, lon } = positionAt(model, clock);
    vehicle.setLatLng([lat, lon]);
    const current = model.hits.filter((h) => h.time <= clock).length - 1;
    const hit = model.hits[Math.max(current, 0)];
    const camera = cameras.get(hit.camera);
    const where = camera ? camera.properties.code : `camera ${hit.camera}`;
    $("#clock").textContent = `${formatTime(new Date(clock))} · last seen at ${where}`;
    [...$("#hits").children].forEach((item, i) => item.classList.toggle("current", i === current));
  }

  function pause() {
    clearInterval(playing);
    playing = null;
    $("#play").textContent = "▶ Play";
  }

  function play() {
    if (clock >= last()) seek(first());
    const tick = 50;
    const step = (span() * tick) / (PLAY_SECONDS * 1000);
    playing = setInterval(() => {
      seek(clock + step);
      if (clock >= last()) pause();
    }, tick);
    $("#play").textContent = "❚❚ Pause";
  }

  function stepTo(direction) {
    pause();
    const times = model.hits.map((h) => h.time);
    const next =
      direction > 0 ? times.find((t) => t > clock) : [...times].reverse().find((t) => t < clock);
    seek(next ?? (direction > 0 ? last() : first()));
  }

  function draw() {
    layer.clearLayers();
    for (const segment of model.segments) {
      const points = segment.points.map((p) => [p.lat, p.lon]);
      // A white casing keeps the route readable over the streets and camera dots.
      const casing = { color: "#ffffff", opacity: 0.9, weight: STYLE[segment.kind].weight + 4 };
      L.polyline(points, { ...casing, interactive: false }).addTo(layer);
      const line = L.polyline(points, STYLE[segment.kind]);
      const confidence =
        segment.confidence === undefined ? "" : ` · confidence ${segment.confidence}`;
      line.bindTooltip(`${segment.kind}${confidence}`, { sticky: true }).addTo(layer);
      if (segment.kind === "impossible") {
        const [a, b] = segment.points;
        L.marker([(a.lat + b.lat) / 2, (a.lon + b.lon) / 2], {
          icon: L.divIcon({
            className: "hit-label impossible-mark",
            html: "⚠ impossible",
            iconSize: null,
          }),
        }).addTo(layer);
      }
    }
    model.hits.forEach((hit, i) => {
      L.circleMarker([hit.lat, hit.lon], {
        radius: 6,
        color: "#16202e",
        weight: 2,
        fillColor: "#fff",
        fillOpacity: 1,
      })
        .bindTooltip(String(i + 1), {
          permanent: true,
          direction: "top",
          className: "hit-label",
        })
        .on("click", () => seek(hit.time))
        .addTo(layer);
    });
    map.fitBounds(layer.getBounds(), { padding: [30, 30] });
    vehicle.setLatLng([model.hits[0].lat, model.hits[0].lon]).addTo(layer);
    $("#hits").replaceChildren(
      ...model.hits.map((hit, i) => {
        const camera = cameras.get(hit.camera);
        const item = el("li", {}, [
          el("b", {}, `${i + 1}. ${camera ? camera.properties.code : `camera ${hit.camera}`}`),
          el("small", {}, formatTime(new Date(hit.time))),
        ]);
        item.addEventListener("click", () => seek(hit.time));
        return item;
      }),
    );
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    pause();
    const summary = $("#route-summary");
    request = {
      plate: form.plate.value.trim(),
      start: fromLocalInput(form.start.value),
      end: fromLocalInput(form.end.value),
      reason: form.reason.value.trim(),
      case_id: form.case_id.value.trim(),
    };
    summary.textContent = "reconstructing…";
    const found = await attempt(
      () =>
        Promise.all([
          getJSON("/trace", { ...request, format: "geojson" }),
          getJSON("/trace", { ...request, format: "json" }),
        ]),
      (message) => (summary.textContent = message),
    );
    if (!found) return;
    model = routeModel(...found);
    if (model.hits.length === 0) {
      summary.textContent = "no sightings of this plate in the window";
      $("#player").hidden = true;
      layer.clearLayers();
      return;
    }
    const warning = model.impossible ? ` · ⚠ ${model.impossible} impossible travel` : "";
    summary.textContent = `${model.hits.length} camera hits${warning}`;
    $("#player").hidden = false;
    draw();
    seek(first());
  });

  onPanel("route", (open) => {
    if (open) layer.addTo(map);
    else {
      pause();
      layer.remove();
    }
  });
  slider.addEventListener("input", () => {
    pause();
    seek(first() + (span() * Number(slider.value)) / Number(slider.max));
  });
  $("#play").addEventListener("click", () => (playing ? pause() : play()));
  $("#step-back").addEventListener("click", () => stepTo(-1));
  $("#step-fwd").addEventListener("click", () => stepTo(1));

  for (const button of document.querySelectorAll("[data-export]")) {
    const format = button.dataset.export;
    button.addEventListener("click", () =>
      saveWithProgress({
        bar: $("#export-progress"),
        state: $("#export-state"),
        label: format,
        fallbackName: `route.${format}`,
        start: (progress) =>
          download("GET", "/exports/route", { params: { ...request, format } }, progress),
      }),
    );
  }
}
