// Administration: office and calendar (read-only; edit through the TOML file), devices and
// printer health (revoke, rotate tokens), staff (disable, enable), reservations (booking rules and
// bookings per slot, admin-reservations.js), statistics with charts and CSV export, the audit log.
import { api, ApiError, el, fill, hhmm, nameIn } from "./common.js";
import { guard, signIn, signOut } from "./staff.js";
import { loadReservations, setupReservations } from "./admin-reservations.js";

const $ = (id) => document.getElementById(id);
let me = null;
let office = null;
const WEEKDAYS = ["月", "火", "水", "木", "金", "土", "日"];
const REASONS = { holiday: "祝日", weekend: "週末", year_end: "年末年始", closed_date: "休止日" };

function say(text, error = false) {
  $("message").textContent = text;
  $("message").classList.toggle("error", error);
}

async function call(path, options = {}) {
  try {
    return await api(path, { ...options, token: me.token });
  } catch (error) {
    return guard(error);
  }
}

function table(columns, rows, caption) {
  return el("table", { class: "data" },
    caption ? el("caption", { class: "visually-hidden", text: caption }) : null,
    el("thead", {}, el("tr", {}, columns.map(([, label, numeric]) => el("th", { scope: "col", class: numeric ? "n" : null, text: label })))),
    el("tbody", {}, rows.map((row) => el("tr", {}, columns.map(([key, , numeric]) => {
      const value = typeof key === "function" ? key(row) : row[key];
      if (value instanceof Node) return el("td", {}, value);  // an action button
      return el("td", { class: numeric ? "n" : null, text: value === null || value === undefined ? "—" : String(value) });
    })))));
}

// -- tabs (WAI-ARIA tabs pattern: arrow keys move between tabs) --------------------------
function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    tab.focus();
    loaders[tab.id] && loaders[tab.id]();
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (e) => {
      if (e.key === "ArrowRight") select(tabs[(i + 1) % tabs.length]);
      if (e.key === "ArrowLeft") select(tabs[(i - 1 + tabs.length) % tabs.length]);
    });
  });
}

// -- office ----------------------------------------------------------------------------------
async function loadOffice() {
  office = await api("/api/v1/office");
  $("office-name").textContent = office.names.ja;
  fill($("week"), table([
    [(d) => `${d.date}（${WEEKDAYS[(new Date(`${d.date}T12:00:00+09:00`).getUTCDay() + 6) % 7]}）`, "日付"],
    [(d) => d.hours || "閉庁", "開庁時間"],
    [(d) => (d.closed_reason ? REASONS[d.closed_reason] || d.closed_reason : ""), "理由"],
  ], office.week, "開庁時間"));
  fill($("closed"), office.closed_days.length
    ? table([["date", "日付"], [(d) => REASONS[d.reason] || d.reason, "理由"]], office.closed_days, "閉庁日")
    : el("p", { text: "ありません" }));
  fill($("categories"), table([
    ["prefix", "記号"], [(c) => nameIn(c.names, "ja"), "手続き"], [(c) => nameIn(c.names, "en"), "英語名"],
    ["fee", "手数料（円）", true], ["daily_cap", "1日の上限", true], [(c) => c.last_reception || "—", "受付終了"],
    [(c) => (c.open_now ? "受付中" : "受付終了"), "現在"],
  ], office.categories, "手続き"));
  const catName = (id) => { const c = office.categories.find((x) => x.id === id); return c ? nameIn(c.names, "ja") : id; };
  fill($("counters"), table([
    ["number", "番号", true], ["id", "ID"], [(c) => c.categories.map(catName).join(" → "), "担当（優先順）"],
  ], office.counters, "窓口"));
}

// -- devices ---------------------------------------------------------------------------------
function health(d) {
  const p = d.health && d.health.printer;
  if (!p) return d.kind === "kiosk" ? "報告なし" : "—";
  const parts = [p.online === false ? "オフライン" : "オンライン"];
  if (p.paper) parts.push(`用紙: ${{ ok: "あり", near_end: "残りわずか", low: "残りわずか", out: "なし", end: "なし" }[p.paper] || p.paper}`);
  if (p.cover) parts.push(`カバー: ${p.cover === "open" || p.cover === true ? "開" : "閉"}`);
  return parts.join("・");
}

async function deviceAction(device, verb) {
  const question = verb === "revoke"
    ? `${device.name} のトークンを失効させます。この端末は使えなくなります。よろしいですか。`
    : `${device.name} のトークンを再発行します。古いトークンはすぐに使えなくなります。よろしいですか。`;
  if (!window.confirm(question)) return;
  try {
    const answer = await call(`/api/v1/admin/devices/${encodeURIComponent(device.name)}/${verb}`, { method: "POST" });
    fill($("device-token"), answer.token
      ? [el("p", { text: `${device.name} の新しいトークン（この一度だけ表示されます）` }), el("p", { class: "token", id: "new-token", text: answer.token })]
      : el("p", { text: `${device.name} を失効させました。` }));
    loadDevices();
  } catch (error) {
    say(error instanceof ApiError ? error.messageJa || error.message : "操作できませんでした。", true);
  }
}

async function loadDevices() {
  const { devices } = await call("/api/v1/devices");
  const actions = (d) => (d.revoked_at ? el("span", { text: "失効済み" }) : el("span", {},
    el("button", { type: "button", class: "secondary", id: `rotate-${d.name}`, onclick: () => deviceAction(d, "rotate") }, "再発行"), " ",
    el("button", { type: "button", class: "danger", id: `revoke-${d.name}`, onclick: () => deviceAction(d, "revoke") }, "失効")));
  fill($("devices"), devices.length ? table([
    ["name", "端末名"], [(d) => ({ kiosk: "発券機", board: "表示板" }[d.kind] || d.kind), "種類"],
    [(d) => (d.last_seen_at ? `${d.last_seen_at.slice(0, 10)} ${hhmm(d.last_seen_at)}` : "未接続"), "最終通信"],
    [health, "プリンター"], [actions, "トークン"],
  ], devices, "端末") : el("p", { text: "登録された端末はありません" }));
}

async function addDevice(event) {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(event.target));
  try {
    const answer = await call("/api/v1/admin/devices", { method: "POST", body: data });
    const link = answer.board_path ? `${location.origin}${answer.board_path}` : null;
    fill($("device-token"),
      el("p", { text: `${answer.device.name} を登録しました。トークンはこの一度だけ表示されます。` }),
      el("p", { class: "token", id: "new-token", text: answer.token }),
      link ? el("p", { text: `表示板: madoguchi board --server ${location.origin} --token <上のトークン>` }) : null);
    event.target.reset();
    loadDevices();
  } catch (error) {
    say(error instanceof ApiError ? error.messageJa || error.message : "登録できませんでした。", true);
  }
}

// -- staff -----------------------------------------------------------------------------------
async function staffAction(person, verb) {
  if (verb === "disable" && !window.confirm(`${person.name} を無効にします。ログイン中の画面もすぐに閉じられます。よろしいですか。`)) return;
  try {
    await call(`/api/v1/admin/staff/${encodeURIComponent(person.name)}/${verb}`, { method: "POST" });
    say(`${person.name} を${verb === "disable" ? "無効" : "有効"}にしました。`);
    loadStaff();
  } catch (error) {
    say(error instanceof ApiError ? error.messageJa || error.message : "操作できませんでした。", true);
  }
}

async function loadStaff() {
  const { staff } = await call("/api/v1/admin/staff");
  const toggle = (p) => (p.name === me.name ? el("span", { text: "（自分）" }) : el("button", {
    type: "button", class: p.active ? "danger" : "secondary", id: `${p.active ? "disable" : "enable"}-${p.name}`,
    onclick: () => staffAction(p, p.active ? "disable" : "enable"),
  }, p.active ? "無効にする" : "有効にする"));
  fill($("staff"), table([
    ["name", "ログイン名"], [(p) => (p.role === "admin" ? "管理者" : "窓口職員"), "権限"],
    [(p) => (p.active ? "有効" : "無効"), "状態"], [(p) => (p.created_at || "").slice(0, 10), "登録日"],
    [toggle, "操作"],
  ], staff, "職員"));
}

// -- audit log -------------------------------------------------------------------------------
const AUDIT_ACTIONS = {
  "login": "ログイン", "login.failed": "ログイン失敗", "logout": "ログアウト", "staff.added": "職員の追加",
  "staff.disabled": "職員の無効化", "staff.enabled": "職員の有効化", "device.added": "端末の登録",
  "device.revoked": "端末の失効", "device.rotated": "トークン再発行", "office.uploaded": "設定ファイルの反映",
  "counter.state": "窓口の状態", "ticket.reprint": "再印刷", "request.viewed": "申請内容の閲覧",
};

function auditQuery(format) {
  const q = new URLSearchParams({ format });
  if ($("audit-from").value) q.set("from", $("audit-from").value);
  if ($("audit-to").value) q.set("to", $("audit-to").value);
  return `/api/v1/admin/audit?${q}`;
}

async function loadAudit(event) {
  if (event) event.preventDefault();
  const data = await call(auditQuery("json"));
  fill($("audit"), data.entries.length ? table([
    [(e) => `${e.at.slice(0, 10)} ${hhmm(e.at)}`, "日時"], ["actor", "操作した人"],
    [(e) => AUDIT_ACTIONS[e.action] || e.action, "操作"], ["ticket_id", "整理券"], ["device", "端末"], ["detail", "内容"],
  ], data.entries, `${data.from}〜${data.to} の監査ログ`) : el("p", { text: `${data.from}〜${data.to} の記録はありません` }));
}

async function addStaff(event) {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(event.target));
  try {
    await call("/api/v1/admin/staff", { method: "POST", body: data });
    say(`${data.name} を追加しました。`);
    event.target.reset();
    loadStaff();
  } catch (error) {
    say(error instanceof ApiError ? `追加できませんでした: ${error.message}` : "追加できませんでした。", true);
  }
}

// -- statistics ------------------------------------------------------------------------------
const STAT_COLUMNS = [
  ["issued", "発券", true], ["called", "呼出", true], ["served", "完了", true], ["no_shows", "不在", true],
  ["wait_mean_minutes", "平均待ち（分）", true], ["wait_median_minutes", "待ち中央値（分）", true],
  ["wait_max_minutes", "最長待ち（分）", true], ["service_mean_minutes", "平均対応（分）", true],
  ["service_median_minutes", "対応中央値（分）", true], ["idle_minutes", "空き時間（分）", true],
];
const BY_LABEL = { day: "日付", hour: "時", category: "手続き", counter: "窓口", clerk: "職員" };

function statsQuery(format) {
  const q = new URLSearchParams({ by: $("stats-by").value, format });
  if ($("stats-from").value) q.set("from", $("stats-from").value);
  if ($("stats-to").value) q.set("to", $("stats-to").value);
  return `/api/v1/admin/stats?${q}`;
}

/** The words for one group on the chart and in the table: procedure and counter names, not ids. */
function groupLabel(row, by) {
  const value = row[by];
  if (by === "category") {
    const c = office.categories.find((x) => x.id === value);
    return c ? `${c.prefix} ${nameIn(c.names, "ja")}` : String(value);
  }
  if (by === "counter") {
    const c = office.counters.find((x) => x.id === value || x.number === value);
    return c ? `${c.number}番窓口` : String(value);
  }
  if (by === "hour") return `${value}時`;
  if (by === "day") return String(value).slice(5).replace("-", "/");
  return String(value);
}

/** A label that fits `width` px at the chart's 11 px type (CJK is about one em per letter). */
function fitLabel(text, width) {
  const em = (ch) => (/[\u0000-\u00ff]/.test(ch) ? 0.6 : 1) * 11;
  let used = 0;
  let out = "";
  for (const ch of text) {
    if (used + em(ch) > width) return `${out.slice(0, -1)}…`;
    used += em(ch);
    out += ch;
  }
  return out;
}

/** A bar chart in inline SVG: issued (blue) and mean wait (orange) per group. */
function chart(rows, by) {
  const width = 720; const height = 240; const left = 40; const bottom = 40;
  const n = Math.max(rows.length, 1);
  const slot = (width - left) / n;
  const maxIssued = Math.max(1, ...rows.map((r) => r.issued || r.called || 0));
  const maxWait = Math.max(1, ...rows.map((r) => r.wait_mean_minutes || 0));
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${BY_LABEL[by]}ごとの件数（青）と平均待ち時間（橙）。数値は下の表にあります。`);
  const add = (tag, attrs, text) => {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    svg.append(node);
  };
  add("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: "axis" });
  rows.forEach((row, i) => {
    const count = row.issued || row.called || 0;
    const h1 = ((height - bottom - 10) * count) / maxIssued;
    const h2 = ((height - bottom - 10) * (row.wait_mean_minutes || 0)) / maxWait;
    const x = left + i * slot;
    const w = Math.max(2, slot * 0.35);
    add("rect", { x: x + slot * 0.1, y: height - bottom - h1, width: w, height: h1, class: "bar" });
    add("rect", { x: x + slot * 0.1 + w, y: height - bottom - h2, width: w, height: h2, class: "bar2" });
    if (n <= 31) {
      const label = groupLabel(row, by);
      add("text", { x: x + slot * 0.1, y: height - bottom + 14, "data-label": label }, fitLabel(label, slot * 0.9));
    }
  });
  add("text", { x: 2, y: 12 }, `最大 ${maxIssued} 件 / ${maxWait} 分`);
  return svg;
}

async function loadStats(event) {
  if (event) event.preventDefault();
  const by = $("stats-by").value;
  const data = await call(statsQuery("json"));
  const columns = [[by === "category" || by === "counter" ? (r) => groupLabel(r, by) : by, BY_LABEL[by]], ...STAT_COLUMNS];
  fill($("stats-chart"), data.rows.length ? chart(data.rows, by) : null);
  fill($("stats-table"), data.rows.length
    ? table(columns, data.rows, `${data.from}〜${data.to} の統計`)
    : el("p", { text: `${data.from}〜${data.to} のデータはありません` }));
}

async function download(path, name) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${me.token}` } });
  if (!response.ok) { say("ダウンロードできませんでした。", true); return null; }
  const blob = await response.blob();
  const link = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  return blob;
}

// -- office file -------------------------------------------------------------------------------
async function uploadToml() {
  try {
    const answer = await call("/api/v1/admin/office", { method: "PUT", raw: $("toml-text").value });
    say(`設定を反映しました（手続き ${answer.categories}・窓口 ${answer.counters}）。`);
    loadOffice();
  } catch (error) {
    say(error instanceof ApiError ? `反映できませんでした: ${error.message}` : "反映できませんでした。", true);
  }
}

const loaders = {
  "tab-devices": loadDevices, "tab-staff": loadStaff, "tab-stats": () => loadStats(), "tab-audit": () => loadAudit(),
  "tab-reservations": () => loadReservations(),
};

async function main() {
  $("logout").addEventListener("click", signOut);
  me = await signIn($("login-form"), $("login-message"), ["admin"]);
  $("who").textContent = me.name;
  $("logout").hidden = false;
  $("app").hidden = false;
  setupTabs();
  $("device-form").addEventListener("submit", addDevice);
  $("staff-form").addEventListener("submit", addStaff);
  $("audit-form").addEventListener("submit", loadAudit);
  $("audit-csv").addEventListener("click", () => download(auditQuery("csv"), "audit.csv"));
  $("stats-form").addEventListener("submit", loadStats);
  $("stats-csv").addEventListener("click", () => download(statsQuery("csv"), `stats-${$("stats-by").value}.csv`));
  $("toml-download").addEventListener("click", () => download("/api/v1/admin/office.toml", "office.toml"));
  $("toml-load").addEventListener("click", async () => { $("toml-text").value = await call("/api/v1/admin/office.toml"); });
  $("toml-upload").addEventListener("click", uploadToml);
  setupReservations({ call, download, say, table });
  await loadOffice();
}

main();
