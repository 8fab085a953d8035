// The clerk's console: one counter, its current ticket and actions, the waiting lists, the
// prefilled request, alerts and the clerk's own day. Stale screens are expected (two clerks,
// two tabs): every refusal from the server is explained and the screen refreshed.
import { Live, api, ApiError, debounce, el, fill, hhmm, nameIn } from "./common.js";
import { guard, session, signIn, signOut } from "./staff.js";

const $ = (id) => document.getElementById(id);
const COUNTER_KEY = "madoguchi.clerk.counter";
let me = null;
let office = null;
let counterId = null;
let current = null; // the ticket at this counter (called, serving or on hold)
const alerts = [];

const STATES = { issued: "お待ち", called: "呼出中", serving: "受付中", on_hold: "保留中", done: "完了", no_show: "不在", cancelled: "取消" };

function say(text, error = false) {
  const node = $("message");
  node.textContent = text;
  node.classList.toggle("error", error);
}

function counter() {
  return office.counters.find((c) => c.id === counterId);
}

function categoryName(id) {
  const found = office.categories.find((c) => c.id === id);
  return found ? nameIn(found.names, "ja") : id;
}

async function call(path, options = {}) {
  try {
    return await api(path, { ...options, token: me.token });
  } catch (error) {
    return guard(error);
  }
}

/** A refusal in words a clerk can act on, naming the number concerned. */
function explain(error, number) {
  if (!(error instanceof ApiError)) return "サーバーに接続できません。しばらくしてからもう一度お試しください。";
  if (error.code === "counter_busy") {
    return "この窓口ではすでに別の番号を呼び出し中です（別の画面や職員が操作しました）。画面を更新しました。";
  }
  if (error.code === "illegal_transition") {
    return `${number || "この番号"} はすでに他の職員が操作しました（状態が変わっています）。画面を更新しました。`;
  }
  if (error.code === "not_found") return "番号が見つかりません。画面を更新しました。";
  return error.messageJa || error.message;
}

async function act(label, work, number) {
  say("");
  try {
    const answer = await work();
    if (answer && answer.ticket) {
      const t = answer.ticket;
      say(`${t.number}: ${label}しました。`);
    } else if (answer === null) {
      say("お待ちの方はいません。");
    }
  } catch (error) {
    say(explain(error, number), true);
  }
  await refresh();
}

const actions = {
  next: () => act("呼出", () => call(`/api/v1/counters/${counterId}/call-next`, { method: "POST" })),
  // The usual rhythm at a busy counter: finish this visitor and call the next in one step.
  "finish-next": async () => {
    if (!current) return;
    const finished = current.number;
    say("");
    try {
      const answer = await call(`/api/v1/counters/${counterId}/call-next`, { method: "POST", body: { finish_current: true } });
      say(answer && answer.ticket
        ? `${finished}: 完了しました。${answer.ticket.number} を呼び出しました。`
        : `${finished}: 完了しました。お待ちの方はいません。`);
    } catch (error) {
      say(explain(error, finished), true);
    }
    await refresh();
  },
  recall: () => current && act("再呼出", () => call(`/api/v1/tickets/${current.id}/recall`, { method: "POST" }), current.number),
  start: () => current && act("受付開始", () => call(`/api/v1/tickets/${current.id}/start`, { method: "POST" }), current.number),
  finish: () => current && act("完了", () => call(`/api/v1/tickets/${current.id}/finish`, { method: "POST" }), current.number),
  "no-show": () => current && act("不在に", () => call(`/api/v1/tickets/${current.id}/no-show`, { method: "POST" }), current.number),
  hold: () => {
    if (!current) return;
    const verb = current.state === "on_hold" ? "resume" : "hold";
    return act(verb === "hold" ? "保留" : "再開", () => call(`/api/v1/tickets/${current.id}/${verb}`, { method: "POST" }), current.number);
  },
  transfer: () => {
    if (!current) return;
    const target = $("transfer-to").value;
    if (!target) {
      say("転送先の手続きを選んでください。", true);
      $("transfer-to").focus();
      return;
    }
    return act(`${categoryName(target)}へ転送`, () => call(`/api/v1/tickets/${current.id}/transfer`, { method: "POST", body: { category_id: target } }), current.number);
  },
};

function renderCurrent() {
  $("current-number").textContent = current ? current.number : "—";
  $("current-info").textContent = current
    ? `${categoryName(current.category_id)}・${STATES[current.state] || current.state}${current.recall_count ? `（再呼出 ${current.recall_count} 回）` : ""}`
    : "呼び出している番号はありません";
  const state = current ? current.state : null;
  $("act-recall").disabled = state !== "called";
  $("act-start").disabled = state !== "called";
  $("act-finish").disabled = !(state === "called" || state === "serving");
  $("act-no-show").disabled = state !== "called";
  $("act-hold").disabled = !(state === "serving" || state === "on_hold");
  $("act-hold").firstChild.textContent = state === "on_hold" ? "再開 " : "保留 ";
  $("act-transfer").disabled = !(state === "called" || state === "serving");
  $("act-next").disabled = state === "called" || state === "serving";
  $("act-finish-next").disabled = !(state === "called" || state === "serving");
  renderTransfer();
}

// Transfer goes to another procedure: the ticket's own is never offered, and nothing is chosen
// until the clerk picks one (pressing T then asks for it instead of failing).
let transferFor = undefined;
function renderTransfer() {
  const own = current ? current.category_id : null;
  if (transferFor === own) return;
  transferFor = own;
  const select = $("transfer-to");
  const kept = select.value;
  fill(select, el("option", { value: "", text: "選んでください" }),
    office.categories.filter((cat) => cat.id !== own)
      .map((cat) => el("option", { value: cat.id, text: `${cat.prefix} ${nameIn(cat.names, "ja")}` })));
  select.value = kept && kept !== own ? kept : "";
}

async function renderRequest() {
  const box = $("request");
  if (!current) {
    fill(box, el("p", { class: "empty", text: "申請データなし" }));
    return;
  }
  let request = null;
  try {
    request = (await call(`/api/v1/tickets/${current.id}/request`)).request;
  } catch (error) {
    request = null; // 404: this visitor brought no prefilled request
  }
  if (!request || !request.fields || !Object.keys(request.fields).length) {
    fill(box, el("p", { class: "empty", text: "申請データなし" }));
    return;
  }
  // Generic: label each field from the form's description when it has one.
  const described = new Map(((request.form && request.form.fields) || []).map((f) => [f.id || f.name, f]));
  const label = (key) => {
    const f = described.get(key);
    return (f && (f.label_ja || (f.labels && f.labels.ja) || f.label)) || key;
  };
  const value = (v) => (Array.isArray(v) ? v.join("、") : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v));
  fill(box,
    el("dl", { class: "request-fields" },
      Object.entries(request.fields).map(([k, v]) => [el("dt", { text: label(k) }), el("dd", { text: value(v) })])),
    request.fee_total !== undefined && request.fee_total !== null ? el("p", { text: `手数料 合計 ${request.fee_total} 円` }) : null,
    el("p", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); openPdf(); }, text: "申請書PDFを開く" })));
}

async function openPdf() {
  const response = await fetch(`/api/v1/tickets/${current.id}/request.pdf`, { headers: { Authorization: `Bearer ${me.token}` } });
  if (response.ok) window.open(URL.createObjectURL(await response.blob()), "_blank", "noopener");
}

function renderQueue(tickets) {
  const groups = new Map();
  const served = counter() ? counter().categories : [];
  for (const id of served) groups.set(id, []);
  for (const t of tickets) {
    if (!groups.has(t.category_id)) groups.set(t.category_id, []);
    groups.get(t.category_id).push(t);
  }
  fill($("queue"), [...groups].map(([id, list]) => el("div", { class: "queue-group" },
    el("h3", {}, `${categoryName(id)}（${list.length}人）`, served.includes(id) ? "" : el("span", { class: "note", text: " この窓口の担当外" })),
    list.length ? el("table", { class: "queue-table" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "番号" }), el("th", { scope: "col", text: "発券" }), el("th", { scope: "col", text: "目安" }), el("th", { scope: "col", text: "区分" }), el("th", { scope: "col" }, el("span", { class: "visually-hidden", text: "操作" })))),
      el("tbody", {}, list.map((t) => el("tr", { dataset: { number: t.number } },
        el("td", { class: "num", text: t.number }),
        el("td", { text: hhmm(t.issued_at) }),
        el("td", { text: t.estimated_wait_minutes === null ? "—" : `約${t.estimated_wait_minutes}分` }),
        el("td", { text: t.priority === "assistance" ? "要支援" : t.priority === "reservation" ? "予約" : "" }),
        el("td", {}, el("button", {
          type: "button", class: "secondary small", "aria-label": `${t.number} を呼ぶ`,
          disabled: current && ["called", "serving"].includes(current.state),
          onclick: () => act("呼出", () => call(`/api/v1/tickets/${t.id}/call`, { method: "POST", body: { counter_id: counterId } }), t.number),
        }, "呼ぶ"))))))
      : el("p", { class: "empty", text: "お待ちの方はいません" }))));
}

function renderHeld(data) {
  const rows = [
    ...data.held.map((t) => el("li", {}, `${t.number} 保留中 `, el("button", {
      type: "button", class: "secondary small", "aria-label": `${t.number} を再開`,
      onclick: () => act("再開", () => call(`/api/v1/tickets/${t.id}/resume`, { method: "POST" }), t.number),
    }, "再開"))),
    ...data.no_shows.map((t) => el("li", {}, `${t.number} 不在 `, el("button", {
      type: "button", class: "secondary small", "aria-label": `${t.number} を列に戻す`,
      onclick: () => act("列に戻", () => call(`/api/v1/tickets/${t.id}/return`, { method: "POST" }), t.number),
    }, "戻す"))),
  ];
  fill($("held"), rows.length ? el("ul", { class: "plain" }, rows) : el("p", { class: "empty", text: "ありません" }));
}

function renderMine(mine) {
  const rows = [
    ["呼出", `${mine.called} 件`], ["完了", `${mine.served} 件`], ["不在", `${mine.no_shows} 件`],
    ["平均対応時間", mine.service_mean_minutes === null ? "—" : `${mine.service_mean_minutes} 分`],
    ["空き時間", `${mine.idle_minutes} 分`],
  ];
  fill($("mine"), rows.map(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
}

function addAlert(text) {
  alerts.unshift({ text, at: new Date().toISOString() });
  alerts.splice(20);
  renderAlerts([]);
}

let deviceAlerts = [];
function renderAlerts(devices) {
  if (devices) deviceAlerts = devices;
  const items = [
    ...deviceAlerts.map((d) => el("li", { class: "alert" }, `${d.name}: ${d.text}`)),
    ...alerts.map((a) => el("li", { class: "alert" }, `${hhmm(a.at)} ${a.text}`)),
  ];
  fill($("alerts"), items.length ? items : [el("li", { class: "empty", text: "通知はありません" })]);
}

function deviceProblems(devices) {
  const out = [];
  for (const d of devices) {
    const printer = d.health && d.health.printer;
    if (!printer) continue;
    const problems = [];
    if (printer.online === false) problems.push("プリンターがオフライン");
    if (printer.paper === "out" || printer.paper === "end") problems.push("用紙切れ");
    else if (printer.paper === "near_end" || printer.paper === "low") problems.push("用紙残りわずか");
    if (printer.cover === "open" || printer.cover === true) problems.push("カバーが開いています");
    if (problems.length) out.push({ name: d.name, text: problems.join("・") });
  }
  return out;
}

let lastCurrentId = null;
async function refresh() {
  try {
    const [consoleData, queue] = await Promise.all([
      call(`/api/v1/console/${counterId}`),
      call("/api/v1/queue"),
    ]);
    // A ticket on hold frees the counter but stays this clerk's to resume: show it when idle.
    current = consoleData.current || consoleData.held[0] || null;
    renderCurrent();
    if ((current && current.id) !== lastCurrentId) {
      lastCurrentId = current && current.id;
      renderRequest();
    }
    renderQueue(queue.tickets);
    renderHeld(consoleData);
    renderMine(consoleData.mine);
    document.body.dataset.refreshed = String(Date.now());
  } catch (error) {
    // A refresh that failed (often one started while the link was down) must not replace the
    // explanation of what the clerk just did; the header shows the link state anyway.
    if (!(error instanceof ApiError) && !$("message").textContent) say("サーバーに接続できません。", true);
  }
}
const refreshSoon = debounce(refresh, 150);

async function refreshDevices() {
  try {
    renderAlerts(deviceProblems((await call("/api/v1/devices")).devices));
  } catch (error) { /* shown by the connection state */ }
}

function onEvent(event) {
  if (event.type === "ticket.print_failed") {
    addAlert(`${event.ticket ? event.ticket.number : ""} の番号札を印刷できませんでした`);
  }
  if (event.type === "device.health") refreshDevices();
  refreshSoon();
}

function shortcuts(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest("input, select, textarea")) return;
  const key = event.key.toLowerCase();
  if (key === "n" && event.shiftKey) {
    event.preventDefault();
    if (!$("act-finish-next").disabled) $("act-finish-next").click();
    return;
  }
  const map = { n: "act-next", r: "act-recall", s: "act-start", f: "act-finish", x: "act-no-show", h: "act-hold", t: "act-transfer" };
  const id = map[key];
  if (!id) return;
  event.preventDefault();
  const button = $(id);
  if (!button.disabled) button.click();
}

async function begin() {
  $("setup").hidden = true;
  $("console").hidden = false;
  $("logout").hidden = false;
  sessionStorage.setItem(COUNTER_KEY, counterId);
  const c = counter();
  $("counter-name").textContent = `${c.number}番窓口`;
  $("who").textContent = `${me.name}（${c.number}番窓口）`;
  document.body.dataset.connection = "connecting";
  Object.entries({ "finish-next": "act-finish-next", next: "act-next", recall: "act-recall", start: "act-start", finish: "act-finish", "no-show": "act-no-show", hold: "act-hold", transfer: "act-transfer" })
    .forEach(([name, id]) => $(id).addEventListener("click", () => actions[name]()));
  $("counter-state").addEventListener("change", async (e) => {
    try {
      await call(`/api/v1/counters/${counterId}/state`, { method: "POST", body: { state: e.target.value } });
      say(`窓口の状態を「${e.target.selectedOptions[0].textContent}」にしました。`);
    } catch (error) { say(explain(error), true); }
  });
  document.addEventListener("keydown", shortcuts);
  renderCurrent();
  await refresh();
  refreshDevices();
  new Live({
    channel: "clerk", token: me.token,
    onSnapshot: (status) => {
      const mine = status.counters.find((x) => x.id === counterId);
      if (mine) $("counter-state").value = mine.state;
      refreshSoon();
    },
    onEvent,
    onState: (state) => { if (state === "unauthorized") signOut(); },
  }).start();
}

async function main() {
  $("logout").addEventListener("click", signOut);
  me = await signIn($("login-form"), $("login-message"), ["clerk", "admin"]);
  $("who").textContent = me.name;
  $("logout").hidden = false;
  office = await api("/api/v1/office");
  counterId = sessionStorage.getItem(COUNTER_KEY);
  if (counterId && counter()) return begin();
  $("setup").hidden = false;
  document.body.dataset.connection = "choose";
  fill($("counter-select"), office.counters.map((c) => el("option", { value: c.id, text: `${c.number}番窓口（${c.categories.map(categoryName).join("・")}）` })));
  $("start").addEventListener("click", () => {
    counterId = $("counter-select").value;
    begin();
  });
}

main();
