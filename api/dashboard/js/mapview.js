// The map: the city's roads from /map/roads and every camera from /map/cameras.
//
// Both are painted straight onto canvases of their own. Leaflet's vector layers keep an
// object per point and per camera and rebuild them at every zoom: for 10^5 road points and
// thousands of cameras that is most of a second of work and garbage. Here the points are
// projected once into flat arrays, and a redraw is a scale, a shift and a stroke.

import { getJSON } from "./api.js";
import { el, formatTime } from "./ui.js";

const STATUSES = ["online", "stale", "offline", "disabled"];
const BROKEN = new Set(["stale", "offline"]);
const COLOURS = {
  online: "#1a9e4b",
  stale: "#e3a008",
  offline: "#d93025",
  disabled: "#8a94a3",
};
const CREDIT = "Map data © OpenStreetMap contributors (ODbL)";
// The canvas paints in order: broken cameras last, so they show where cameras share a spot.
const PAINT_ORDER = { online: 0, disabled: 1, stale: 2, offline: 3 };

// By OSM rank (tracing.graph.ROAD_RANK): main roads wider and darker.
const ROAD_STYLE = {
  6: { color: "#e8a33d", weight: 4 },
  5: { color: "#f0b95b", weight: 3.5 },
  4: { color: "#c9a35a", weight: 3 },
  3: { color: "#9aa6b5", weight: 2.4 },
  2: { color: "#aab4c0", weight: 1.8 },
  1: { color: "#c4ccd6", weight: 1 },
};

export function createMap(element) {
  const map = L.map(element, {
    preferCanvas: true,
    minZoom: 9,
    maxZoom: 19,
    zoomSnap: 0.5,
  });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(CREDIT);
  map.createPane("roads").style.zIndex = 250;
  map.createPane("cameras").style.zIndex = 350; // over roads, under routes and search hits
  map.setView([10.78, 106.7], 13); // replaced by the extent of the data once it loads
  return map;
}

// A canvas a little larger than the view (so panning shows no blank edge), redrawn after
// every move and scaled like Leaflet's own layers during the zoom animation.
const CanvasLayer = L.Layer.extend({
  onAdd(map) {
    this.canvas = L.DomUtil.create("canvas", "leaflet-zoom-animated canvas-layer");
    map.getPane(this.options.pane).append(this.canvas);
    map.on("moveend zoomend resize", this.redraw, this);
    map.on("zoomanim", this.animateZoom, this);
    this.redraw();
  },

  onRemove(map) {
    this.canvas.remove();
    map.off("moveend zoomend resize", this.redraw, this);
    map.off("zoomanim", this.animateZoom, this);
  },

  animateZoom(event) {
    const scale = this._map.getZoomScale(event.zoom);
    // Leaflet 1.9's own overlays move this way; the library is vendored at that version.
    const offset = this._map._latLngBoundsToNewLayerBounds(
      this.bounds,
      event.zoom,
      event.center,
    ).min;
    L.DomUtil.setTransform(this.canvas, offset, scale);
  },

  redraw() {
    const map = this._map;
    if (!map) return;
    const size = map.getSize();
    const pad = size.multiplyBy(0.1); // as Leaflet's own renderers: more costs every redraw
    const topLeft = map.containerPointToLayerPoint(pad.multiplyBy(-1));
    const width = size.x + 2 * pad.x;
    const height = size.y + 2 * pad.y;
    const ratio = window.devicePixelRatio || 1;
    L.DomUtil.setPosition(this.canvas, topLeft);
    this.bounds = L.latLngBounds(
      map.layerPointToLatLng(topLeft),
      map.layerPointToLatLng(topLeft.add([width, height])),
    );
    Object.assign(this.canvas, {
      width: width * ratio,
      height: height * ratio,
    });
    Object.assign(this.canvas.style, {
      width: `${width}px`,
      height: `${height}px`,
    });
    const ctx = this.canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    // World pixels at zoom 0 → canvas pixels: multiply by `scale`, then subtract `origin`.
    const scale = map.getZoomScale(map.getZoom(), 0);
    const origin = map.getPixelOrigin().add(topLeft);
    this.paint(ctx, { scale, origin, width, height });
  },
});

// Web Mercator (Leaflet's default CRS, EPSG:3857) to world pixels at zoom 0, written out
// (x and y apart) so that projecting 10^5 road points allocates nothing.
const MAX_LATITUDE = 85.0511287798;

function projectX(lon) {
  return 256 * (0.5 + lon / 360);
}

function projectY(lat) {
  const sin = Math.sin((Math.max(Math.min(lat, MAX_LATITUDE), -MAX_LATITUDE) * Math.PI) / 180);
  return 256 * (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI));
}

const RoadLayer = CanvasLayer.extend({
  options: { pane: "roads" },

  // Per road class: the lines as flat [x0, y0, x1, y1, …] arrays of zoom-0 world pixels,
  // with each line's bounding box, so lines off the canvas are skipped.
  initialize(geojson) {
    this.classes = geojson.features.map((feature) => {
      const lines = feature.geometry.coordinates.map((coordinates) => {
        const points = new Float64Array(coordinates.length * 2);
        let minX = Infinity;
        let minY = Infinity;
        let maxX = -Infinity;
        let maxY = -Infinity;
        for (let i = 0; i < coordinates.length; i += 1) {
          const x = projectX(coordinates[i][0]);
          const y = projectY(coordinates[i][1]);
          points[2 * i] = x;
          points[2 * i + 1] = y;
          if (x < minX) minX = x;
          if (x > maxX) maxX = x;
          if (y < minY) minY = y;
          if (y > maxY) maxY = y;
        }
        return { points, box: [minX, minY, maxX, maxY] };
      });
      return {
        style: ROAD_STYLE[feature.properties.rank] || ROAD_STYLE[1],
        lines,
      };
    });
  },

  paint(ctx, { scale, origin, width, height }) {
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    for (const { style, lines } of this.classes) {
      ctx.beginPath();
      for (const { points, box } of lines) {
        if (box[2] * scale - origin.x < 0 || box[0] * scale - origin.x > width) continue;
        if (box[3] * scale - origin.y < 0 || box[1] * scale - origin.y > height) continue;
        let lastX = points[0] * scale - origin.x;
        let lastY = points[1] * scale - origin.y;
        ctx.moveTo(lastX, lastY);
        const end = points.length - 2;
        for (let i = 2; i <= end; i += 2) {
          const x = points[i] * scale - origin.x;
          const y = points[i + 1] * scale - origin.y;
          // Over the whole city most vertices are under a pixel apart: not worth a stroke.
          if (i < end && Math.abs(x - lastX) < 1 && Math.abs(y - lastY) < 1) continue;
          ctx.lineTo(x, y);
          lastX = x;
          lastY = y;
        }
      }
      ctx.strokeStyle = style.color;
      ctx.lineWidth = style.weight;
      ctx.stroke();
    }
  },
});

// Fits the map to the city before drawing anything, so the first paint is the only one.
export async function loadRoads(map, pending = getJSON("/map/roads")) {
  const data = await pending;
  const [west, south, east, north] = data.bbox;
  map.fitBounds(
    [
      [south, west],
      [north, east],
    ],
    { padding: [10, 10], animate: false },
  );
  return new RoadLayer(data).addTo(map);
}

function popupOf(camera) {
  const p = camera.properties;
  return el("div", {}, [
    el("div", { className: "popup-title" }, p.code),
    el("div", {}, p.name),
    el("div", {}, [el("span", { className: `dot ${p.status}` }), p.status]),
    el("small", {}, `last frame: ${p.last_frame_at ? formatTime(p.last_frame_at) : "never"}`),
  ]);
}

const DotLayer = CanvasLayer.extend({
  options: { pane: "cameras" },

  initialize(onClick) {
    this.dots = []; // {x, y (zoom-0 world pixels), colour, camera}, painted in order
    this.onClick = onClick;
    this.interactive = true; // off while the map's clicks mean something else (drawing)
  },

  onAdd(map) {
    CanvasLayer.prototype.onAdd.call(this, map);
    map.on("click", this.click, this);
    map.on("mousemove", this.hover, this);
  },

  onRemove(map) {
    CanvasLayer.prototype.onRemove.call(this, map);
    map.off("click", this.click, this);
    map.off("mousemove", this.hover, this);
  },

  setDots(dots) {
    this.dots = dots;
    this.redraw();
  },

  radius() {
    const zoom = this._map.getZoom();
    return zoom >= 16 ? 6 : zoom >= 14 ? 4.5 : 3; // small over the whole city, so dots stay apart
  },

  paint(ctx, { scale, origin, width, height }) {
    const radius = this.radius();
    ctx.lineWidth = 1;
    ctx.strokeStyle = "#ffffff";
    // Where each painted dot is on screen, for clicks; the view starts `pad` inside the canvas.
    const shift = this._map
      .containerPointToLayerPoint([0, 0])
      .subtract(L.DomUtil.getPosition(this.canvas));
    this.painted = [];
    for (const dot of this.dots) {
      const x = dot.x * scale - origin.x;
      const y = dot.y * scale - origin.y;
      if (x < -radius || y < -radius || x > width + radius || y > height + radius) continue;
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, 2 * Math.PI);
      ctx.fillStyle = dot.colour;
      ctx.fill();
      ctx.stroke();
      this.painted.push({ x: x - shift.x, y: y - shift.y, dot });
    }
  },

  // The topmost dot under the pointer (the last painted), within a fingertip's slack.
  at({ x, y }) {
    const reach = (this.radius() + 4) ** 2;
    for (let i = this.painted.length - 1; i >= 0; i -= 1) {
      const p = this.painted[i];
      if ((p.x - x) ** 2 + (p.y - y) ** 2 <= reach) return p.dot;
    }
    return null;
  },

  click(event) {
    const dot = this.interactive && this.at(event.containerPoint);
    if (dot) this.onClick(dot.camera);
  },

  hover(event) {
    if (!this.interactive) return;
    this._map.getContainer().style.cursor = this.at(event.containerPoint) ? "pointer" : "";
  },
});

export class CameraLayer {
  constructor(map) {
    this.map = map;
    this.cameras = new Map(); // id -> GeoJSON feature
    this.district = "";
    this.dots = new DotLayer((camera) => this.open(camera)).addTo(map);
  }

  async load(pending = getJSON("/map/cameras")) {
    const data = await pending;
    data.features.sort(
      (a, b) => PAINT_ORDER[a.properties.status] - PAINT_ORDER[b.properties.status],
    );
    this.cameras = new Map(data.features.map((f) => [f.id, f]));
    this.filter(this.district);
    return data.features;
  }

  districts() {
    return [...new Set([...this.cameras.values()].map((c) => c.properties.district))].sort();
  }

  visible() {
    return [...this.cameras.values()].filter(
      (c) => !this.district || c.properties.district === this.district,
    );
  }

  filter(district) {
    this.district = district;
    this.dots.setDots(
      this.visible().map((camera) => {
        const [lon, lat] = camera.geometry.coordinates;
        return {
          x: projectX(lon),
          y: projectY(lat),
          colour: COLOURS[camera.properties.status],
          camera,
        };
      }),
    );
  }

  counts() {
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    for (const camera of this.visible()) counts[camera.properties.status] += 1;
    return counts;
  }

  broken() {
    return this.visible()
      .filter((c) => BROKEN.has(c.properties.status))
      .sort((a, b) =>
        (a.properties.last_frame_at || "").localeCompare(b.properties.last_frame_at || ""),
      );
  }

  bounds() {
    const points = this.visible().map((c) => [
      c.geometry.coordinates[1],
      c.geometry.coordinates[0],
    ]);
    return points.length ? L.latLngBounds(points) : null;
  }

  get(id) {
    return this.cameras.get(Number(id));
  }

  setInteractive(interactive) {
    this.dots.interactive = interactive;
  }

  open(camera) {
    const [lon, lat] = camera.geometry.coordinates;
    L.popup({ offset: [0, -4] })
      .setLatLng([lat, lon])
      .setContent(popupOf(camera))
      .openOn(this.map);
  }

  // Fly to a camera and open its popup; false when the caller may not see it.
  flyTo(id, zoom = 17) {
    const camera = this.get(id);
    if (!camera) return false;
    const [lon, lat] = camera.geometry.coordinates;
    this.map.once("moveend", () => this.open(camera));
    this.map.flyTo([lat, lon], Math.max(this.map.getZoom(), zoom), {
      duration: 0.6,
    });
    return true;
  }
}
