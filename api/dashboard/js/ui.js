// Small DOM helpers shared by the panels. Text goes in through textContent, never innerHTML,
// so a plate or camera name can never inject markup.

// Default time window of searches and traces: the last two days, so yesterday's morning is in.
export const WINDOW_MS = 48 * 3600_000;

export function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of [].concat(children)) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

export function formatTime(iso) {
  return timeFormat.format(new Date(iso));
}

// <input type="datetime-local"> speaks local wall time without a zone; the API wants ISO 8601.
export function toLocalInput(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 16);
}

export function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : "";
}

// Calls back with true when the named panel opens and false when another one does: a panel
// shows its layers on the map only while it is open, so two tasks never mix on the map.
export function onPanel(name, callback) {
  document.addEventListener("panelchange", (event) => callback(event.detail === name));
}

let toastTimer;

export function toast(message, { bad = false } = {}) {
  const box = $("#toast");
  box.textContent = message;
  box.classList.toggle("bad", bad);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.hidden = true), bad ? 6000 : 3000);
}

// Runs an async action, reporting its failure in place instead of as an uncaught error.
export async function attempt(action, report = (message) => toast(message, { bad: true })) {
  try {
    return await action();
  } catch (error) {
    report(error.message || String(error));
    return undefined;
  }
}

export function setProgress(bar, done, total) {
  bar.hidden = false;
  if (total > 0) {
    bar.max = total;
    bar.value = done;
  } else {
    bar.removeAttribute("value"); // indeterminate: the browser animates it
  }
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// Runs a download with a progress bar and a status line, then hands the file to the browser.
export async function saveWithProgress({ bar, state, label, fallbackName, start }) {
  state.textContent = `exporting ${label}…`;
  setProgress(bar, 0, 0);
  const file = await attempt(
    () =>
      start((done, total) => {
        setProgress(bar, done, total);
        state.textContent = `exporting ${label}… ${formatBytes(done)}`;
      }),
    (message) => (state.textContent = message),
  );
  bar.hidden = true;
  if (!file) return;
  const name = file.name || fallbackName;
  const link = el("a", {
    href: URL.createObjectURL(file.blob),
    download: name,
  });
  link.click();
  URL.revokeObjectURL(link.href);
  state.textContent = `${name} · ${formatBytes(file.blob.size)}`;
}
