// The admin page's 予約 tab: each procedure's booking rule and the office's closed dates and
// special openings (saved through the office-file path: same checks, audit log), and bookings
// per slot for a range of days with CSV export. Counts only: no contact data reaches this page.
import { ApiError, el, fill, hhmm, nameIn } from "./common.js";

const $ = (id) => document.getElementById(id);
let ctx = null; // { call, download, say, table }
let version = null;
let names = {};

function problem(error, fallback) {
  if (!(error instanceof ApiError)) return fallback;
  return `${fallback}: ${error.messageJa || error.message}`;
}

function field(id, label, input) {
  return el("p", {}, el("label", { for: id, text: label }), el("br"), input);
}

function number(id, value, min, max, step = 1) {
  return el("input", { id, type: "number", min, max, step, value: value ?? "", class: "short" });
}

function ruleForm(category) {
  const id = category.id;
  const r = category.reservation || {};
  const share = r.counter_share !== undefined && r.counter_share !== null;
  const form = el("form", { class: "rule", dataset: { category: id }, "aria-labelledby": `rule-${id}-title` },
    el("h3", { id: `rule-${id}-title`, text: `${nameIn(category.names, "ja")}（${id}）` }),
    el("p", {}, el("label", {},
      el("input", { type: "checkbox", id: `rule-${id}-on`, checked: category.reservable }), " 予約を受け付ける")),
    el("div", { class: "form-row" },
      field(`rule-${id}-slot`, "枠の長さ（分）", number(`rule-${id}-slot`, r.slot_minutes ?? 30, 5, 240)),
      field(`rule-${id}-mode`, "定員の決め方", el("select", { id: `rule-${id}-mode` },
        el("option", { value: "per_slot", selected: !share, text: "1枠の予約数" }),
        el("option", { value: "counter_share", selected: share, text: "窓口時間の割合（0〜1）" }))),
      field(`rule-${id}-cap`, "定員の値", number(`rule-${id}-cap`, share ? r.counter_share : (r.per_slot ?? ""), 0, 999, "any")),
      field(`rule-${id}-hours`, "予約できる時間帯（例 09:00-12:00, 13:00-16:30。空欄は開庁時間）",
        el("input", { id: `rule-${id}-hours`, value: (r.hours || []).join(", "), size: 32 })),
    ),
    el("div", { class: "form-row" },
      field(`rule-${id}-ahead`, "何日先まで", number(`rule-${id}-ahead`, r.days_ahead ?? 30, 0, 366)),
      field(`rule-${id}-lead`, "締切（枠の何分前）", number(`rule-${id}-lead`, r.lead_minutes ?? 60, 0, 10080)),
      field(`rule-${id}-early`, "受付開始（枠の何分前）", number(`rule-${id}-early`, r.early_minutes ?? 30, 0, 240)),
      field(`rule-${id}-grace`, "遅刻の猶予（分）", number(`rule-${id}-grace`, r.grace_minutes ?? 15, 0, 240)),
    ),
    el("p", {}, el("label", {},
      el("input", { type: "checkbox", id: `rule-${id}-special`, checked: r.on_special_openings !== false }),
      " 休日開庁日も予約を受け付ける")),
    el("p", {}, el("button", { type: "submit", text: `${nameIn(category.names, "ja")}の予約設定を保存` })));
  form.addEventListener("submit", (event) => saveRule(event, id, category.reservation));
  return form;
}

function ruleBody(id, previous) {
  const value = (suffix) => $(`rule-${id}-${suffix}`).value;
  const reservable = $(`rule-${id}-on`).checked;
  if (!reservable && !previous) return { reservable, reservation: null, version };
  const share = value("mode") === "counter_share";
  const capacity = value("cap") === "" ? null : Number(value("cap"));
  return {
    reservable,
    version,
    reservation: {
      slot_minutes: Number(value("slot")),
      per_slot: share ? null : capacity,
      counter_share: share ? capacity : null,
      hours: value("hours").split(/[,、\s]+/).filter(Boolean),
      days_ahead: Number(value("ahead")),
      lead_minutes: Number(value("lead")),
      early_minutes: Number(value("early")),
      grace_minutes: Number(value("grace")),
      on_special_openings: $(`rule-${id}-special`).checked,
    },
  };
}

async function saveRule(event, id, previous) {
  event.preventDefault();
  try {
    await ctx.call(`/api/v1/admin/reservation-rules/${encodeURIComponent(id)}`, { method: "PUT", body: ruleBody(id, previous) });
    ctx.say(`${names[id] || id}の予約設定を保存しました。`);
    await loadRules();
  } catch (error) {
    ctx.say(problem(error, "保存できませんでした"), true);
  }
}

function lines(text, pattern) {
  const out = {};
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const found = line.match(pattern);
    if (!found) throw new Error(line);
    out[found[1]] = found[2].trim();
  }
  return out;
}

async function saveCalendar(event) {
  event.preventDefault();
  let body;
  try {
    body = {
      closed_dates: lines($("closed-dates").value, /^(\d{4}-\d{2}-\d{2})\s+(.+)$/),
      special_openings: lines($("special-openings").value, /^(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}-\d{2}:\d{2})$/),
      version,
    };
  } catch (error) {
    ctx.say(`書き方を確認してください: ${error.message}`, true);
    return;
  }
  try {
    await ctx.call("/api/v1/admin/calendar", { method: "PUT", body });
    ctx.say("閉庁日と休日開庁を保存しました。");
    await loadRules();
  } catch (error) {
    ctx.say(problem(error, "保存できませんでした"), true);
  }
}

async function loadRules() {
  const data = await ctx.call("/api/v1/admin/reservation-rules");
  version = data.version;
  names = Object.fromEntries(data.categories.map((c) => [c.id, nameIn(c.names, "ja")]));
  fill($("rules"), data.categories.map(ruleForm));
  $("closed-dates").value = Object.entries(data.closed_dates).map(([d, why]) => `${d} ${why}`).join("\n");
  $("special-openings").value = Object.entries(data.special_openings).map(([d, hours]) => `${d} ${hours}`).join("\n");
}

function bookingsQuery(format) {
  const params = new URLSearchParams({ format });
  if ($("bookings-from").value) params.set("from", $("bookings-from").value);
  if ($("bookings-to").value) params.set("to", $("bookings-to").value);
  return `/api/v1/admin/reservations?${params}`;
}

async function loadBookings(event) {
  if (event) event.preventDefault();
  const data = await ctx.call(bookingsQuery("json"));
  const rows = data.rows.filter((r) => r.capacity || r.booked || r.cancelled);
  fill($("bookings"), rows.length
    ? ctx.table([
      ["date", "日付"], [(r) => names[r.category_id] || r.category_id, "手続き"],
      [(r) => `${hhmm(r.slot_start)}〜${hhmm(r.slot_end)}`, "枠"],
      ["capacity", "定員", true], ["booked", "予約", true], ["checked_in", "受付済み", true],
      ["no_show", "来庁なし", true], ["cancelled", "取消", true],
    ], rows, `${data.from}〜${data.to} の予約`)
    : el("p", { text: `${data.from}〜${data.to} の予約枠はありません` }));
}

export async function loadReservations() {
  await loadRules();
  await loadBookings();
}

export function setupReservations(context) {
  ctx = context;
  $("calendar-form").addEventListener("submit", saveCalendar);
  $("bookings-form").addEventListener("submit", loadBookings);
  $("bookings-csv").addEventListener("click", () => ctx.download(bookingsQuery("csv"), "reservations.csv"));
}
