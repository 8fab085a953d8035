// Shared helpers for every page: DOM building without innerHTML, the JSON API, the live
// WebSocket with resync and an honest offline state, and times in the office's zone.

export const ZONE = "Asia/Tokyo";

/** Build an element; children are nodes or text (text is never parsed as HTML). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a node's children. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
}

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http_error";
    this.messageJa = error.message_ja || "";
  }
}

/** Call the JSON API; `token` is sent as a bearer token. 204 gives null. */
export async function api(path, { method = "GET", body, token, form, raw } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (form) {
    payload = new URLSearchParams(form);
  } else if (raw !== undefined) {
    payload = raw;
    headers["Content-Type"] = "text/plain; charset=utf-8";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, { method, headers, body: payload, cache: "no-store" });
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(response.status, typeof data === "object" ? data : null);
  return data;
}

const timeFormat = new Intl.DateTimeFormat("ja-JP", {
  timeZone: ZONE, hour: "2-digit", minute: "2-digit", hour12: false,
});
export function hhmm(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "";
}

/**
 * The live WebSocket of one channel. Sends the hello (token) first, keeps the last seq, asks for
 * a snapshot on any gap, reconnects with back-off, and reports "connecting" / "online" /
 * "offline" so a page never shows stale numbers as if they were current. Through the public
 * relay, heartbeats also say when the figures were last pushed (`onFreshness`) and "stale" when
 * the pushes have stopped.
 */
export class Live {
  constructor({ channel, token = null, onSnapshot, onEvent, onStatus, onState, onFreshness, heartbeat = 15 }) {
    this.channel = channel;
    this.token = token;
    this.handlers = { onSnapshot, onEvent, onStatus, onState, onFreshness };
    this.seq = null;
    this.socket = null;
    this.attempt = 0;
    this.state = "connecting";
    // Silence longer than this means the link is dead even if TCP did not say so.
    this.silenceMs = Math.max(10000, heartbeat * 2500);
    this.lastMessage = 0;
    this.timers = [];
    this.stopped = false;
  }

  start() {
    this.connect();
    this.timers.push(setInterval(() => this.watch(), 1000));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.state !== "online") this.reconnectNow();
    });
    return this;
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    document.body.dataset.connection = state;
    this.handlers.onState && this.handlers.onState(state);
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws/${this.channel}`;
  }

  connect() {
    if (this.stopped) return;
    let socket;
    try {
      socket = new WebSocket(this.url());
    } catch (error) {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.lastMessage = Date.now();
    socket.onopen = () => {
      if (this.token) socket.send(JSON.stringify({ type: "hello", token: this.token }));
    };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setState(event.code === 4401 ? "unauthorized" : "offline");
      if (event.code !== 4401) this.scheduleReconnect();
    };
    socket.onerror = () => socket.close();
  }

  scheduleReconnect() {
    // Quick first retries (a server restart takes a second or two), then every 5 s at most.
    const delays = [300, 1000, 2000, 3000, 5000];
    const delay = delays[Math.min(this.attempt, delays.length - 1)];
    this.attempt += 1;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    clearTimeout(this.retry);
    if (this.socket) this.socket.close();
    else this.connect();
  }

  watch() {
    if (!this.socket) return;
    const silent = Date.now() - this.lastMessage;
    if (this.socket.readyState === WebSocket.OPEN && silent > this.silenceMs / 2) {
      this.socket.send(JSON.stringify({ type: "ping" }));
    }
    if (silent > this.silenceMs) {
      const dead = this.socket;
      this.socket = null;
      dead.close();
      this.setState("offline");
      this.scheduleReconnect();
    }
  }

  receive(text) {
    this.lastMessage = Date.now();
    let message;
    try {
      message = JSON.parse(text);
    } catch (error) {
      return;
    }
    const h = this.handlers;
    if (message.type === "snapshot") {
      this.seq = message.seq;
      this.attempt = 0;
      this.setState("online");
      h.onSnapshot && h.onSnapshot(message.status);
    } else if (message.type === "event") {
      if (this.seq !== null && message.seq !== this.seq + 1) {
        // A gap: the figures may be wrong, ask for a fresh snapshot.
        this.socket && this.socket.send(JSON.stringify({ type: "resync" }));
        return;
      }
      this.seq = message.seq;
      h.onEvent && h.onEvent(message.event);
    } else if (message.type === "status") {
      if (this.seq === null || message.seq >= this.seq) h.onStatus && h.onStatus(message.status);
    } else if (message.type === "heartbeat") {
      if (this.seq !== null && message.seq > this.seq) {
        this.socket && this.socket.send(JSON.stringify({ type: "resync" }));
      }
      if ("online" in message) {
        // From the public relay: when its figures were last pushed, and whether pushes still come.
        h.onFreshness && h.onFreshness(message.updated_at, message.online);
        this.setState(message.online ? "online" : "stale");
      }
    } else if (message.type === "error" && message.code === "unauthorized") {
      this.setState("unauthorized");
    }
  }
}

/** Run `work` at most once per `ms` (the last call wins). */
export function debounce(work, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => work(...args), ms);
  };
}

/** Names of a category in a language, falling back to English, then Japanese. */
export function nameIn(names, lang) {
  if (!names) return "";
  return names[lang] || names.en || names.ja || "";
}
