// The one way the page talks to the service: same origin, bearer token, errors as ApiError.

const TOKEN_KEY = "platetrace.token";

export class ApiError extends Error {
  constructor(status, detail) {
    super(describe(detail) || `request failed (${status})`);
    this.status = status;
    this.detail = detail;
  }
}

// FastAPI answers {"detail": "sentence"} or, for malformed input, a list of field errors.
function describe(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .slice(0, 5)
      .map(
        (e) => `${(e.loc || []).filter((p) => p !== "body" && p !== "query").join(".")}: ${e.msg}`,
      )
      .join("; ");
  }
  return "";
}

let onUnauthorized = () => {};

export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function forget() {
  sessionStorage.removeItem(TOKEN_KEY);
}

function authHeaders(extra = {}) {
  const value = token();
  return value ? { ...extra, Authorization: `Bearer ${value}` } : extra;
}

export async function login(username, password) {
  const body = new URLSearchParams({ username, password });
  const response = await fetch("/auth/token", { method: "POST", body });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data.detail);
  sessionStorage.setItem(TOKEN_KEY, data.access_token);
  return data;
}

async function check(response) {
  if (response.ok) return response;
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) onUnauthorized();
  throw new ApiError(response.status, data.detail);
}

// Query values that are empty are left out, so optional filters need no special casing.
function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, one);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export async function request(method, path, { params = {}, json } = {}) {
  const headers = authHeaders(json === undefined ? {} : { "Content-Type": "application/json" });
  const response = await fetch(path + query(params), {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return check(response);
}

export async function getJSON(path, params = {}) {
  return (await request("GET", path, { params })).json();
}

export async function sendJSON(method, path, json, params = {}) {
  const response = await request(method, path, { json, params });
  return response.status === 204 ? null : response.json();
}

// An image behind auth: an <img> cannot send the header, so it gets a blob: URL instead.
export async function imageURL(path, params = {}) {
  const response = await request("GET", path, { params });
  return URL.createObjectURL(await response.blob());
}

// A download that reports progress as bytes arrive (of Content-Length when the server says).
export async function download(method, path, options, onProgress) {
  const response = await request(method, path, options);
  const total = Number(response.headers.get("Content-Length")) || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onProgress(received, total);
  }
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1];
  return {
    blob: new Blob(chunks, {
      type: response.headers.get("Content-Type") || "",
    }),
    name,
  };
}

// An upload through XMLHttpRequest, the one browser API that reports upload progress.
export function upload(path, params, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path + query(params));
    for (const [key, value] of Object.entries(authHeaders())) xhr.setRequestHeader(key, value);
    xhr.upload.onprogress = (event) =>
      onProgress(event.loaded, event.lengthComputable ? event.total : 0);
    xhr.onload = () => {
      let data = {};
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        // A body that is not JSON still gets a status-based message below.
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else {
        if (xhr.status === 401) onUnauthorized();
        reject(new ApiError(xhr.status, data.detail));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "network error during upload"));
    xhr.send(form);
  });
}

// Server-Sent Events over fetch: EventSource cannot send the Authorization header.
// Calls onEvent({id, event, data}) per event; resolves when the server ends the stream.
export async function streamEvents(path, { lastEventId, onEvent, onOpen }) {
  const headers = authHeaders({ Accept: "text/event-stream" });
  if (lastEventId) headers["Last-Event-ID"] = lastEventId;
  const response = await check(await fetch(path, { headers, cache: "no-store" }));
  onOpen?.();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message = { id: null, event: "message", data: [] };
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue; // comments are heartbeats
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") message.data.push(text);
        else if (field === "id") message.id = text;
        else if (field === "event") message.event = text;
      }
      if (message.data.length) onEvent({ ...message, data: message.data.join("\n") });
    }
  }
}
