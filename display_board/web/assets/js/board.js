// The waiting-room board: numbers being called (very large), recent calls, waits per
// procedure, a clock, lines in several languages, and the announcement queue (chime, Japanese,
// English, one after another, never overlapping; a recall is announced again).
// Words come from the visitor catalogue: Japanese first, English under it, the ticker in all.
import { Live, api, el, fill, hhmm, nameIn, ZONE } from "./common.js";
import { loadTexts, minuteCounter, minutes, t } from "./texts.js";

const params = new URLSearchParams(location.search);
const KEY = "madoguchi.board.token";
const FRESH_MS = 15000;
const LOG_LIMIT = 200;
const PAGE_MS = Number(params.get("page_ms") || 8000);
const TICKER_LANGUAGES = ["ja", "en", "zh-Hans", "ko", "vi", "pt", "ja-easy"];

// The device token arrives once in the fragment (never sent to the server) and is kept here.
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("token")) {
  localStorage.setItem(KEY, fragment.get("token"));
  history.replaceState(null, "", location.pathname + location.search);
}
const token = localStorage.getItem(KEY);
if (params.get("layout")) document.body.dataset.layout = params.get("layout");

// What tests and field staff can inspect: every announcement queued and played (bounded).
const log = { announced: [], played: [], renders: 0 };
window.madoguchiBoard = log;
function remember(list, item) {
  list.push(item);
  if (list.length > LOG_LIMIT) list.splice(0, list.length - LOG_LIMIT);
}

const $ = (id) => document.getElementById(id);
const texts = {}; // language -> catalogue
let office = null;
const calling = new Map(); // counter number -> {number, category, fresh_until}
let categories = [];
let recent = [];

const ja = (key, values) => t(texts.ja, key, values);
const en = (key, values) => t(texts.en, key, values);
/** Japanese, with the English under it (smaller, marked as English for screen readers). */
function bilingual(key, values) {
  return [ja(key, values), el("span", { class: "en", lang: "en", text: en(key, values) })];
}

async function loadAllTexts() {
  const loaded = await Promise.all(TICKER_LANGUAGES.map((lang) => loadTexts(lang)));
  TICKER_LANGUAGES.forEach((lang, i) => { texts[lang] = loaded[i]; });
  for (const node of document.querySelectorAll("[data-text]")) fill(node, bilingual(node.dataset.text));
  $("board-sub").textContent = en("board.title");
  $("clock").setAttribute("aria-label", ja("board.clock"));
  $("ticker").textContent = ja("board.ticker");
}

async function loadOffice() {
  try {
    office = await api("/api/v1/office");
    fill($("office-name"), office.names.ja);
    document.title = `${office.names.ja} ${ja("board.title")}`;
    renderWaiting();
  } catch (error) {
    setTimeout(loadOffice, 5000);
  }
}

function categoryName(id, lang = "ja") {
  const found = office && office.categories.find((c) => c.id === id);
  return found ? nameIn(found.names, lang) : id;
}

function portrait() {
  const layout = document.body.dataset.layout;
  if (layout) return layout === "portrait";
  return innerHeight > innerWidth;
}

// -- rendering: keyed, so a board that runs for weeks reuses its nodes --------------------
// Called numbers sit in a grid of equal cells sized by the screen, not by their content, and
// their type is sized from the cell (container units): more calls give smaller cards in more
// columns, never cards drawn over each other or over the table below.
const callingList = $("calling");
const callingNodes = new Map();

function callGrid(count) {
  if (portrait()) {
    if (count <= 2) return [1, 2];
    if (count <= 4) return [1, 4];
  } else {
    if (count <= 3) return [1, 3];
    if (count <= 4) return [2, 2];
  }
  if (count <= 6) return [2, 3];
  if (count <= 8) return [2, 4];
  return [3, Math.ceil(count / 3)];
}

function renderCalling() {
  const now = Date.now();
  const counters = [...calling.keys()].sort((a, b) => a - b);
  for (const [counter, node] of callingNodes) {
    if (!calling.has(counter)) {
      node.remove();
      callingNodes.delete(counter);
    }
  }
  const [columns, rows] = callGrid(counters.length);
  callingList.style.setProperty("--columns", String(columns));
  callingList.style.setProperty("--rows", String(rows));
  counters.forEach((counter, index) => {
    const item = calling.get(counter);
    let node = callingNodes.get(counter);
    if (!node) {
      // The card is the size container; its body is laid out by the card's shape.
      node = el("li", { class: "call", dataset: { counter: String(counter) } },
        el("div", { class: "call-body" },
          el("span", { class: "call-number" }),
          el("span", { class: "call-arrow", "aria-hidden": "true", text: "→" }),
          el("span", { class: "call-counter" })));
      callingNodes.set(counter, node);
    }
    const [numberNode, , counterNode] = node.firstChild.children;
    if (numberNode.textContent !== item.number) numberNode.textContent = item.number;
    const where = ja("board.counter", { counter });
    if (counterNode.firstChild?.textContent !== where) {
      fill(counterNode, el("span", { class: "ja", text: where }),
        el("span", { class: "en", lang: "en", text: en("board.counter", { counter }) }));
    }
    node.dataset.number = item.number;
    node.classList.toggle("fresh", item.freshUntil > now);
    if (callingList.children[index] !== node) callingList.insertBefore(node, callingList.children[index] || null);
  });
  $("calling-empty").hidden = calling.size > 0;
  log.renders += 1;
  renderRecent();
}

// "Recently called" helps whoever missed their number: calls no longer on the main area,
// newest first, each number once, as many as fit.
function renderRecent() {
  const list = $("recent");
  const shown = new Set([...calling.values()].map((c) => c.number));
  const seen = new Set();
  const calls = [];
  for (const call of recent) {
    if (shown.has(call.number) || seen.has(call.number)) continue;
    seen.add(call.number);
    calls.push(call);
  }
  fill(list, calls.length ? calls.slice(0, 12).map((call) =>
    el("li", { dataset: { number: call.number } },
      el("span", { class: "recent-number", text: call.number }),
      el("span", { class: "recent-counter" }, ja("board.counter", { counter: call.counter_number }),
        el("span", { class: "en", lang: "en", text: en("board.counter", { counter: call.counter_number }) })),
      el("time", { class: "recent-time", text: hhmm(call.at) })))
    : el("li", { class: "none" }, bilingual("board.recent_none")));
  const box = list.closest("section");
  while (list.children.length > 1 && box.scrollHeight > box.clientHeight + 1) list.lastElementChild.remove();
}

function estimateCell(cat) {
  if (!cat.open || cat.estimated_wait_minutes === null) return "—";
  const m = cat.estimated_wait_minutes;
  const low = cat.estimate_low_minutes;
  const high = cat.estimate_high_minutes;
  const hasRange = low !== null && high !== null && high > low;
  const range = (catalog, key) => t(catalog, key, { low, high, counter: minuteCounter(catalog, high) });
  return [
    el("span", { class: "minutes", text: minutes(texts.ja, m) }),
    hasRange ? el("span", { class: "range", text: ` (${range(texts.ja, "board.range")})` }) : null,
    el("span", { class: "en", lang: "en", text: minutes(texts.en, m) + (hasRange ? ` (${range(texts.en, "board.range")})` : "") }),
  ];
}

function waitingRow(cat) {
  return el("tr", { dataset: { category: cat.id } },
    el("th", { scope: "row" },
      el("span", { class: "prefix", text: cat.prefix }), " ", categoryName(cat.id),
      el("span", { class: "en", lang: "en", text: categoryName(cat.id, "en") })),
    el("td", { class: "count" }, cat.open || cat.waiting ? bilingual("board.people", { n: cat.waiting }) : bilingual("board.reception_closed")),
    el("td", { class: "estimate" }, estimateCell(cat)));
}

// Procedures that do not fit are never dropped silently: the table shows a page of them, says
// 「ほか n 件」, and turns to the next page every few seconds.
let waitingStart = 0;
let waitingHidden = 0;
function renderWaiting() {
  if (!texts.ja) return;
  const body = $("waiting");
  const rows = categories.map(waitingRow);
  const total = rows.length;
  if (waitingStart >= total) waitingStart = 0;
  fill(body, rows);
  const box = body.closest("section");
  const overflows = () => box.scrollHeight > box.clientHeight + 1;
  waitingHidden = 0;
  if (!overflows()) return;
  const summary = el("tr", { class: "more" }, el("td", { colspan: "3" }));
  const more = (key, hidden, page, pages) => `${t(texts[key], "board.more", { n: hidden })} ${t(texts[key], "board.page", { page, pages })}`;
  const say = (hidden, page, pages) => fill(summary.firstChild, more("ja", hidden, page, pages),
    el("span", { class: "en", lang: "en", text: more("en", hidden, page, pages) }));
  const ordered = [...rows.slice(waitingStart), ...rows.slice(0, waitingStart)];
  say(total, 1, total); // the summary takes its full height while rows are fitted above it
  fill(body, summary);
  let shown = 0;
  for (const row of ordered) {
    body.insertBefore(row, summary);
    if (overflows()) {
      row.remove();
      break;
    }
    shown += 1;
  }
  if (!shown) { // not even one row fits beside the summary: show the first row alone
    body.insertBefore(ordered[0], summary);
    shown = 1;
  }
  waitingHidden = total - shown;
  const pages = Math.ceil(total / shown);
  const page = Math.floor(waitingStart / shown) + 1;
  say(waitingHidden, Math.min(page, pages), pages);
  summary.dataset.hidden = String(waitingHidden);
  body.dataset.shown = String(shown);
}

function turnWaitingPage() {
  if (!waitingHidden) return;
  const shown = Number($("waiting").dataset.shown || categories.length);
  waitingStart = waitingStart + shown >= categories.length ? 0 : waitingStart + shown;
  renderWaiting();
}

function applyStatus(status) {
  const fresh = new Map([...calling].map(([k, v]) => [k, v]));
  calling.clear();
  for (const counter of status.counters) {
    if (counter.ticket && counter.ticket.state === "called") {
      const before = fresh.get(counter.number);
      const keep = before && before.number === counter.ticket.number ? before.freshUntil : 0;
      calling.set(counter.number, {
        number: counter.ticket.number, category: counter.ticket.category_id, freshUntil: keep,
      });
    }
  }
  categories = status.categories;
  recent = status.recent_calls;
  renderCalling();
  renderWaiting();
}

function applyEvent(event) {
  const ticket = event.ticket;
  if (!ticket) return;
  if (event.type === "ticket.called" || event.type === "ticket.recalled") {
    calling.set(ticket.counter_number, {
      number: ticket.number, category: ticket.category_id, freshUntil: Date.now() + FRESH_MS,
    });
    renderCalling();
    enqueue({ number: ticket.number, counter: ticket.counter_number, recall: event.type === "ticket.recalled" });
  } else if (ticket.counter_number && calling.get(ticket.counter_number)?.number === ticket.number) {
    // Started, finished, no-show, transferred, held: no longer being called.
    calling.delete(ticket.counter_number);
    renderCalling();
  }
}

// -- announcements -----------------------------------------------------------------------
const queue = [];
let speaking = false;
const player = document.getElementById("player");
player.playbackRate = Number(params.get("rate") || 1);
const MIN_MS = Number(params.get("announce_min_ms") || 3000);

const STALE_MS = 90000;

function enqueue(call) {
  const at = performance.now();
  remember(log.announced, { ...call, at });
  queue.push({ ...call, at });
  pump();
}

function play(url) {
  return new Promise((resolve) => {
    let timer = null;
    const done = () => {
      clearTimeout(timer);
      player.onended = player.onerror = null;
      resolve();
    };
    player.onended = done;
    player.onerror = done;
    timer = setTimeout(done, 20000);
    player.src = url;
    player.playbackRate = Number(params.get("rate") || 1);
    player.play().catch(done);
  });
}

async function pump() {
  if (speaking) return;
  speaking = true;
  const banner = document.getElementById("banner");
  while (queue.length) {
    const { at, ...call } = queue.shift();
    const start = performance.now();
    // A backlog (a burst of calls) must not announce a number minutes late: the screen shows it.
    if (start - at > STALE_MS) {
      remember(log.played, { ...call, start, end: start, clips: 0, skipped: true });
      continue;
    }
    fill(banner, ja("board.banner", { number: call.number, counter: call.counter }),
      el("span", { class: "en", lang: "en", text: en("board.banner", { number: call.number, counter: call.counter }) }));
    banner.classList.add("active");
    let clips = [];
    try {
      const said = await api("/api/v1/announcements", { method: "POST", token, body: call });
      fill(banner, said.display.ja, el("span", { class: "en", lang: "en", text: said.display.en }));
      clips = said.clips;
    } catch (error) {
      clips = ["/audio/chime.wav"]; // no voice: the chime and the screen still work
    }
    for (const url of clips) await play(url);
    const left = MIN_MS - (performance.now() - start);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    remember(log.played, { ...call, start, end: performance.now(), clips: clips.length });
  }
  banner.classList.remove("active");
  speaking = false;
}

// -- clock, languages, freshness ---------------------------------------------------------
const clockFormat = new Intl.DateTimeFormat("ja-JP", {
  timeZone: ZONE, month: "numeric", day: "numeric", weekday: "short", hour: "2-digit", minute: "2-digit", hour12: false,
});
let line = 0;
function tick() {
  document.getElementById("clock").textContent = clockFormat.format(new Date());
  // A highlight that ran out is cleared once, so the cards are not rebuilt every second.
  const now = Date.now();
  let faded = false;
  for (const call of calling.values()) {
    if (call.freshUntil && call.freshUntil < now) {
      call.freshUntil = 0;
      faded = true;
    }
  }
  if (faded) renderCalling();
}
function rotate() {
  if (!texts.ja) return;
  line = (line + 1) % TICKER_LANGUAGES.length;
  const lang = TICKER_LANGUAGES[line];
  const ticker = $("ticker");
  ticker.lang = lang === "ja-easy" ? "ja" : lang;
  ticker.textContent = t(texts[lang], "board.ticker");
}

// -- start -------------------------------------------------------------------------------
async function start() {
  await loadAllTexts();
  if (!token) {
    $("no-token").hidden = false;
    document.body.dataset.connection = "unauthorized";
    return;
  }
  loadOffice();
  let config;
  try {
    config = await api("/api/v1/pages/config");
  } catch (error) {
    setTimeout(() => location.reload(), 5000);
    return;
  }
  new Live({
    channel: "board",
    token,
    heartbeat: config.heartbeat_seconds,
    onSnapshot: applyStatus,
    onStatus: applyStatus,
    onEvent: applyEvent,
    onState: (state) => {
      $("no-token").hidden = state !== "unauthorized";
    },
  }).start();
}
addEventListener("resize", () => { renderCalling(); renderWaiting(); });
// Row heights change once the fonts arrive: fit the lists again then.
document.fonts.ready.then(() => { renderWaiting(); renderRecent(); });
start().catch(() => setTimeout(() => location.reload(), 5000));
tick();
setInterval(tick, 1000);
setInterval(rotate, 6000);
setInterval(turnWaitingPage, PAGE_MS);
