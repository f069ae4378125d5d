// The dashboard: sign in, then show the panels the user's role allows over the city map.

import { forget, getJSON, login, token, whenUnauthorized } from "./api.js";
import { initAlerts } from "./alerts.js";
import { initAudit } from "./audit.js";
import { CameraLayer, createMap, loadRoads } from "./mapview.js";
import { initOperations } from "./operations.js";
import { initPlayback } from "./playback.js";
import { initSearch } from "./search.js";
import { $, attempt, el, formatTime } from "./ui.js";

const BROKEN_LISTED = 100;
const HEALTH_REFRESH_MS = 60_000;
const PANELS = {
  search: initSearch,
  route: initPlayback,
  alerts: initAlerts,
  operations: initOperations,
  audit: initAudit,
};

const map = createMap($("#map"));
const cameras = new CameraLayer(map);
let started = false;
let signedIn = null; // the user name the page was built for

function showLogin(message = "") {
  $("#login").hidden = false;
  $("#login-error").textContent = message;
  $("#login-form [name=username]").focus();
}

whenUnauthorized(() => {
  forget();
  showLogin("Your session has ended; sign in again.");
});

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const ok = await attempt(
    () => login(form.get("username"), form.get("password")),
    (message) => ($("#login-error").textContent = message),
  );
  if (!ok) return;
  event.target.reset();
  $("#login").hidden = true;
  // After a re-login the page keeps its state; only the first sign-in builds it, and
  // someone else signing in gets a page built for their own role.
  if (!started) await start();
  else if (form.get("username") !== signedIn) location.reload();
});

$("#logout").addEventListener("click", () => {
  forget();
  location.reload();
});

function buildTabs(role) {
  const sections = [...document.querySelectorAll("#panel section[data-roles]")].filter((s) =>
    s.dataset.roles.split(" ").includes(role),
  );
  const tabs = $("#tabs");
  const select = (name) => {
    for (const s of document.querySelectorAll("#panel section"))
      s.hidden = s.dataset.panel !== name;
    for (const b of tabs.children) b.setAttribute("aria-selected", String(b.dataset.tab === name));
    map.invalidateSize();
    document.dispatchEvent(new CustomEvent("panelchange", { detail: name }));
  };
  for (const section of sections) {
    const button = el("button", {
      type: "button",
      textContent: section.dataset.title,
    });
    button.dataset.tab = section.dataset.panel;
    button.setAttribute("role", "tab");
    button.addEventListener("click", () => select(section.dataset.panel));
    tabs.append(button);
  }
  select(sections.length ? sections[0].dataset.panel : "none");
  return { names: sections.map((s) => s.dataset.panel), select };
}

function renderCameraPanel() {
  $("#camera-counts").replaceChildren(
    ...Object.entries(cameras.counts()).map(([status, count]) =>
      el("li", {}, [el("span", { className: `dot ${status}` }), `${status} ${count}`]),
    ),
  );
  const broken = cameras.broken();
  $("#broken-count").textContent = String(broken.length);
  // Longest broken first; a city-wide list of hundreds is narrowed by district instead.
  const more = broken.length - BROKEN_LISTED;
  $("#broken-more").hidden = more <= 0;
  $("#broken-more").textContent = `and ${more} more: choose a district to see them`;
  $("#broken-list").replaceChildren(
    ...broken.slice(0, BROKEN_LISTED).map((camera) => {
      const p = camera.properties;
      const seen = p.last_frame_at ? `last frame ${formatTime(p.last_frame_at)}` : "never seen";
      const item = el("li", {}, [
        el("span", { className: `dot ${p.status}` }),
        el("b", {}, p.code),
        ` ${p.name}`,
        el("small", {}, `${p.status} · ${seen}`),
      ]);
      item.dataset.camera = camera.id;
      item.addEventListener("click", () => cameras.flyTo(camera.id));
      return item;
    }),
  );
}

function fillDistricts() {
  const select = $("#district");
  select.replaceChildren(
    el("option", { value: "", textContent: "All districts" }),
    ...cameras.districts().map((d) => el("option", { value: d, textContent: d })),
  );
  select.value = cameras.district;
  renderCameraPanel();
}

$("#district").addEventListener("change", (event) => {
  cameras.filter(event.target.value);
  renderCameraPanel();
  const bounds = cameras.bounds();
  if (bounds) map.fitBounds(bounds, { padding: [20, 20] });
});

async function start() {
  started = true;
  // Every role with a map needs the same two files: fetch them while asking who we are.
  // A role without a map is refused them, and that answer is simply not used.
  const early = { roads: getJSON("/map/roads"), cameras: getJSON("/map/cameras") };
  for (const pending of Object.values(early)) pending.catch(() => {});
  const me = await attempt(() => getJSON("/auth/me"));
  if (!me) return;
  signedIn = me.name;
  $("#who").textContent = `${me.name} · ${me.role}`;
  $("#logout").hidden = false;
  const tabs = buildTabs(me.role);
  // Auditors see no cameras: their panel gets the whole width instead of an empty map.
  document.body.classList.toggle("no-map", !tabs.names.includes("cameras"));
  const refreshCameras = async () => {
    await cameras.load();
    fillDistricts();
  };
  const context = { map, cameras, role: me.role, tabs, refreshCameras };
  if (tabs.names.includes("cameras")) {
    const [roads] = await Promise.all([
      attempt(() => loadRoads(map, early.roads)),
      attempt(() => cameras.load(early.cameras)),
    ]);
    const bounds = cameras.bounds();
    if (!roads && bounds) map.fitBounds(bounds, { padding: [10, 10], animate: false });
    fillDistricts();
    // Health changes as cameras fail and recover: refresh while someone is looking.
    setInterval(() => document.hidden || attempt(refreshCameras), HEALTH_REFRESH_MS);
  }
  for (const name of tabs.names) PANELS[name]?.(context);
  // Usable once the browser has painted it: canvases redraw on the next animation frame.
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  // The browser test and benchmarks/dashboard.py read this mark.
  performance.mark("platetrace:interactive");
  document.body.dataset.ready = "true";
}

if (token()) start();
else showLogin();
