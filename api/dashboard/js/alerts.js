// Live alerts for dispatchers: the open alerts, then every new one and every change from the
// server's event stream, with a tone and a flash for high priority ones. After a dropped
// connection the stream resumes from the last event id, so nothing is missed or shown twice.

import { getJSON, imageURL, sendJSON, streamEvents } from "./api.js";
import { $, attempt, el, formatTime, toast } from "./ui.js";

const HIGH_PRIORITY = 2; // priorities run from 1 (most urgent) to 5
const RETRY_MS = [1000, 2000, 5000, 10000];
const FEED_LIMIT = 200;

let audio = null;

function beep() {
  // A generated tone: no sound file to fetch, and it works on a closed network.
  audio ??= new AudioContext();
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.frequency.value = 880;
  gain.gain.setValueAtTime(0.2, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
  osc.connect(gain).connect(audio.destination);
  osc.start();
  osc.stop(audio.currentTime + 0.6);
}

function flash() {
  const overlay = $("#flash");
  overlay.hidden = false;
  overlay.style.animation = "none";
  void overlay.offsetWidth; // restart the animation for back-to-back alerts
  overlay.style.animation = "";
  setTimeout(() => (overlay.hidden = true), 3000);
}

export function initAlerts({ map, cameras }) {
  const feed = $("#alert-feed");
  const state = $("#alert-state");
  const cards = new Map(); // alert id -> card element
  const pins = L.layerGroup().addTo(map);
  let lastEventId = null;

  async function act(alert, action, body = {}) {
    const updated = await attempt(() => sendJSON("POST", `/alerts/${alert.id}/${action}`, body));
    if (updated) show(updated, { fresh: false });
  }

  // Assigning and closing need a word from the dispatcher: asked for inside the card.
  const QUESTIONS = {
    assign: {
      field: "assignee",
      placeholder: "unit or officer",
      button: "Assign",
    },
    close: {
      field: "outcome",
      placeholder: "what happened",
      button: "Close alert",
    },
  };

  function ask(node, alert, action) {
    const question = QUESTIONS[action];
    const input = el("input", {
      placeholder: question.placeholder,
      required: true,
      maxLength: 100,
    });
    input.name = question.field;
    const form = el("form", { className: "ask" }, [
      input,
      el("button", { type: "submit", textContent: question.button }),
    ]);
    form.addEventListener("click", (event) => event.stopPropagation());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(alert, action, { [question.field]: input.value.trim() });
    });
    node.querySelector(".ask")?.remove();
    node.append(form);
    input.focus();
  }

  function flyTo(alert) {
    if (!cameras.flyTo(alert.camera.id)) {
      map.flyTo([alert.camera.lat, alert.camera.lon], 17, { duration: 0.6 });
    }
  }

  function card(alert) {
    const high = alert.entry.priority <= HIGH_PRIORITY;
    const actions = el("div", { className: "actions" });
    const allowed = {
      acknowledge: alert.status === "new",
      assign: alert.status !== "closed",
      close: alert.status !== "closed",
    };
    for (const [action, label] of [
      ["acknowledge", "Acknowledge"],
      ["assign", "Assign"],
      ["close", "Close"],
    ]) {
      if (!allowed[action]) continue;
      const button = el("button", { type: "button", textContent: label });
      button.dataset.action = action;
      button.addEventListener("click", (event) => {
        event.stopPropagation();
        if (action in QUESTIONS) ask(node, alert, action);
        else act(alert, action);
      });
      actions.append(button);
    }
    const fuzzy = alert.fuzzy ? ` · fuzzy (distance ${alert.distance})` : "";
    const who = alert.assignee ? ` · ${alert.assignee}` : "";
    const node = el("li", { className: `alert ${high ? "high" : ""} ${alert.status}` }, [
      el("header", {}, [
        el("span", { className: "plate" }, alert.plate_raw || alert.plate),
        el("span", { className: "meta" }, `P${alert.entry.priority} · ${alert.status}${who}`),
      ]),
      el("div", {}, alert.entry.reason),
      el(
        "div",
        { className: "meta" },
        `${alert.camera.code} ${alert.camera.name} · ${formatTime(alert.observed_at)}${fuzzy}`,
      ),
      alert.outcome ? el("div", { className: "meta" }, `outcome: ${alert.outcome}`) : null,
      alert.evidence_key ? evidence(alert) : null,
      actions,
    ]);
    node.dataset.alert = alert.id;
    node.addEventListener("click", () => flyTo(alert));
    return node;
  }

  // The plate crop, fetched with the dispatcher's token; the card shows without it meanwhile.
  function evidence(alert) {
    const img = el("img", {
      className: "evidence",
      alt: `evidence of ${alert.plate}`,
    });
    img.hidden = true;
    imageURL(`/alerts/${alert.id}/evidence`)
      .then((url) => {
        img.src = url;
        img.hidden = false;
      })
      .catch(() => img.remove());
    return img;
  }

  function show(alert, { fresh }) {
    const node = card(alert);
    const old = cards.get(alert.id);
    if (old) old.replaceWith(node);
    else feed.prepend(node);
    cards.set(alert.id, node);
    // A shift's feed stays bounded: the oldest cards leave (the alerts stay in the database).
    while (feed.children.length > FEED_LIMIT) {
      cards.delete(Number(feed.lastElementChild.dataset.alert));
      feed.lastElementChild.remove();
    }
    if (fresh) {
      node.classList.add("fresh");
      L.circleMarker([alert.camera.lat, alert.camera.lon], {
        radius: 14,
        color: "#d93025",
        weight: 3,
        fill: false,
      }).addTo(pins);
      if (alert.entry.priority <= HIGH_PRIORITY) {
        flash();
        beep(); // silent if the browser holds audio back until the user has clicked
        flyTo(alert);
      }
      toast(`Alert: ${alert.plate} at ${alert.camera.code}`);
    }
  }

  async function follow() {
    for (let attemptNo = 0; ; attemptNo += 1) {
      try {
        await streamEvents("/alerts/stream", {
          lastEventId,
          onOpen: () => {
            attemptNo = 0;
            state.textContent = "live · waiting for alerts";
            document.body.dataset.alerts = "live";
          },
          onEvent: ({ id, event, data }) => {
            if (id) lastEventId = id;
            const alert = JSON.parse(data);
            show(alert, { fresh: event === "alert" && !cards.has(alert.id) });
            state.textContent = `live · last event ${formatTime(new Date())}`;
          },
        });
      } catch (error) {
        if ([401, 403, 404].includes(error.status)) {
          state.textContent = error.message;
          return;
        }
      }
      document.body.dataset.alerts = "reconnecting";
      const wait = RETRY_MS[Math.min(attemptNo, RETRY_MS.length - 1)];
      state.textContent = `connection lost; retrying in ${wait / 1000} s`;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  async function start() {
    // Newest first from the server; prepending oldest first keeps the newest on top.
    const recent = (await attempt(() => getJSON("/alerts", { limit: 100 }))) || [];
    for (const alert of recent.filter((a) => a.status !== "closed").reverse())
      show(alert, { fresh: false });
    follow();
  }

  start();
}
