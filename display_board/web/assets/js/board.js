// The waiting-room board: numbers being called (very large), recent calls, waits per
// procedure, a clock, lines in several languages, and the announcement queue (chime, Japanese,
// English, one after another, never overlapping; a recall is announced again).
import { Live, api, el, fill, hhmm, nameIn, ZONE } from "./common.js";

const params = new URLSearchParams(location.search);
const KEY = "madoguchi.board.token";
const FRESH_MS = 15000;
const LOG_LIMIT = 200;

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

let office = null;
const calling = new Map(); // counter number -> {number, category, fresh_until}
let categories = [];
let recent = [];

async function loadOffice() {
  try {
    office = await api("/api/v1/office");
    fill(document.getElementById("office-name"), office.names.ja);
    document.title = `${office.names.ja} 呼出表示`;
  } catch (error) {
    setTimeout(loadOffice, 5000);
  }
}

function categoryName(id, lang = "ja") {
  const found = office && office.categories.find((c) => c.id === id);
  return found ? nameIn(found.names, lang) : id;
}

// -- rendering: keyed, so a board that runs for weeks reuses its nodes --------------------
const callingList = document.getElementById("calling");
const callingNodes = new Map();

function renderCalling() {
  const now = Date.now();
  const counters = [...calling.keys()].sort((a, b) => a - b);
  for (const [counter, node] of callingNodes) {
    if (!calling.has(counter)) {
      node.remove();
      callingNodes.delete(counter);
    }
  }
  counters.forEach((counter, index) => {
    const item = calling.get(counter);
    let node = callingNodes.get(counter);
    if (!node) {
      node = el("li", { class: "call", dataset: { counter: String(counter) } },
        el("span", { class: "call-number" }),
        el("span", { class: "call-arrow", "aria-hidden": "true", text: "→" }),
        el("span", { class: "call-counter" }));
      callingNodes.set(counter, node);
    }
    const numberNode = node.children[0];
    if (numberNode.textContent !== item.number) numberNode.textContent = item.number;
    const where = `${counter}番窓口`;
    if (node.children[2].textContent !== where) {
      fill(node.children[2], where, el("span", { class: "en", lang: "en", text: `Counter ${counter}` }));
    }
    node.dataset.number = item.number;
    node.classList.toggle("fresh", item.freshUntil > now);
    if (callingList.children[index] !== node) callingList.insertBefore(node, callingList.children[index] || null);
  });
  document.getElementById("calling-empty").hidden = calling.size > 0;
  log.renders += 1;
}

function renderRecent() {
  const list = document.getElementById("recent");
  fill(list, recent.slice(0, 8).map((call) =>
    el("li", {},
      el("span", { class: "recent-number", text: call.number }),
      el("span", { class: "recent-counter", text: `${call.counter_number}番窓口` }),
      el("time", { class: "recent-time", text: hhmm(call.at) }))));
}

function renderWaiting() {
  const body = document.getElementById("waiting");
  fill(body, categories.map((cat) => el("tr", { dataset: { category: cat.id } },
    el("th", { scope: "row" },
      el("span", { class: "prefix", text: cat.prefix }), " ", categoryName(cat.id),
      el("span", { class: "en", lang: "en", text: categoryName(cat.id, "en") })),
    el("td", { class: "count" }, cat.open || cat.waiting ? `${cat.waiting}人` : "受付終了"),
    el("td", { class: "estimate" },
      cat.estimated_wait_minutes === null || !cat.waiting ? "—" : `約${cat.estimated_wait_minutes}分`))));
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
  renderRecent();
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
    banner.textContent = `受付番号 ${call.number} 番の方、${call.counter}番窓口へお越しください`;
    banner.classList.add("active");
    let clips = [];
    try {
      const said = await api("/api/v1/announcements", { method: "POST", token, body: call });
      banner.textContent = `${said.display.ja} / ${said.display.en}`;
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
const LINES = [
  ["ja", "番号が表示されたら、表示の窓口へお越しください。"],
  ["en", "When your number is shown, please go to the counter shown."],
  ["zh-Hans", "显示您的号码后，请前往所示窗口。"],
  ["ko", "번호가 표시되면 표시된 창구로 와 주십시오."],
  ["vi", "Khi số của bạn hiện lên, vui lòng đến quầy được hiển thị."],
  ["pt", "Quando o seu número aparecer, dirija-se ao guichê indicado."],
  ["ja", "ばんごうが でたら、その まどぐちへ きてください。"],
];
let line = 0;
function tick() {
  document.getElementById("clock").textContent = clockFormat.format(new Date());
  if (calling.size && [...calling.values()].some((c) => c.freshUntil && c.freshUntil < Date.now())) renderCalling();
}
function rotate() {
  line = (line + 1) % LINES.length;
  const ticker = document.getElementById("ticker");
  ticker.lang = LINES[line][0];
  ticker.textContent = LINES[line][1];
}

// -- start -------------------------------------------------------------------------------
if (!token) {
  document.getElementById("no-token").hidden = false;
  document.body.dataset.connection = "unauthorized";
} else {
  loadOffice();
  api("/api/v1/pages/config").then((config) => {
    new Live({
      channel: "board",
      token,
      heartbeat: config.heartbeat_seconds,
      onSnapshot: applyStatus,
      onStatus: applyStatus,
      onEvent: applyEvent,
      onState: (state) => {
        document.getElementById("no-token").hidden = state !== "unauthorized";
      },
    }).start();
  }, () => setTimeout(() => location.reload(), 5000));
}
tick();
setInterval(tick, 1000);
setInterval(rotate, 6000);
