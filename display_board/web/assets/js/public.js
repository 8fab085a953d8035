// 混雑状況: per procedure the waiting count, numbers being called, the estimate and the
// congestion lamp; hours and closed days; typical congestion by weekday and hour. Live.
// Every word comes from the visitor catalogue ([public]) in the visitor's language.
import { Live, api, debounce, el, fill, nameIn } from "./common.js";
import { connectionText, htmlLang, languagePicker, offeredLanguages, pickLanguage, texts } from "./i18n.js";

const $ = (id) => document.getElementById(id);
let lang = pickLanguage();
let tx = null;
let office = null;
let status = null;
let typical = null;
let thresholds = { minutes: [20, 45], people: [5, 15] };

const LAMP_LABELS = { low: "public.lamp_low", mid: "public.lamp_mid", high: "public.lamp_high", closed: "public.lamp_closed" };

/** The server decides the lamp (minutes and people, with hysteresis); the page shows it. */
function lamp(category) {
  const level = LAMP_LABELS[category.congestion] ? category.congestion : "low";
  return [level, tx.t(LAMP_LABELS[level])];
}

// The office's closed-day reasons are Japanese data; the regular ones have catalogue words.
// Holiday names (元日, 憲法記念日…) are proper names and stay as the calendar gives them.
function closure(reason) {
  if (!reason) return "";
  if (reason === "閉庁日") return tx.t("public.closure_regular");
  if (reason === "年末年始") return tx.t("public.closure_year_end");
  if (reason === "休庁日") return tx.t("public.closure_other");
  return reason;
}

function dayHours(d) {
  if (d.hours) return d.hours;
  const why = d.closed_reason && d.closed_reason !== "閉庁日" ? closure(d.closed_reason) : "";
  return why ? tx.t("public.closed_for", { reason: why }) : tx.t("public.closed");
}

function weekday(date) {
  return tx.list("public.weekdays")[(new Date(`${date}T12:00:00+09:00`).getUTCDay() + 6) % 7];
}

function renderStatic() {
  document.documentElement.lang = htmlLang(lang);
  document.title = tx.t("public.title");
  $("skip").textContent = tx.t("public.skip");
  $("title").textContent = tx.t("public.title");
  $("lang-label").textContent = tx.t("public.language");
  $("typical-title").textContent = tx.t("public.typical");
  $("week-title").textContent = tx.t("public.week");
  $("closed-title").textContent = tx.t("public.closed_days");
  $("opendata-link").textContent = tx.t("public.open_data");
  $("legend-title").textContent = tx.t("public.legend_title");
  const [a, b] = thresholds.minutes;
  const [p, q] = thresholds.people;
  fill($("legend"),
    el("li", {}, el("span", { class: "lamp lamp-low", "aria-hidden": "true" }), " ",
      tx.t("public.legend_low", { a: tx.duration(a), p })),
    el("li", {}, el("span", { class: "lamp lamp-mid", "aria-hidden": "true" }), " ", tx.t("public.legend_mid")),
    el("li", {}, el("span", { class: "lamp lamp-high", "aria-hidden": "true" }), " ",
      tx.t("public.legend_high", { b: tx.duration(b), q })));
}

function render() {
  if (!tx) return;
  renderStatic();
  if (office) {
    $("office-name").textContent = nameIn(office.names, lang);
    const open = status ? status.open : office.open;
    const hours = office.hours_today ? tx.t("public.hours_today", { hours: office.hours_today }) : tx.t("public.closed_today");
    fill($("open-state"), el("strong", { text: open ? tx.t("public.open_now") : tx.t("public.closed_now") }), " ", el("span", { text: hours }));
    fill($("week"), el("ul", {}, office.week.map((d) => el("li", {}, tx.t("public.day_line", {
      date: d.date.slice(5).replace("-", "/"),
      weekday: weekday(d.date),
      hours: dayHours(d),
    })))));
    // The weekly rhythm is in the week above; list only the other closures (holidays, 年末年始).
    const special = office.closed_days.filter((d) => d.reason !== "閉庁日").slice(0, 10);
    fill($("closed-days"), special.length
      ? special.map((d) => el("li", {}, tx.t("public.day_line", { date: d.date.replaceAll("-", "/"), weekday: weekday(d.date), hours: closure(d.reason) })))
      : el("li", { class: "none", text: tx.t("public.closed_days_none") }));
  }
  if (status && office) renderCategories();
  renderTypical();
  connection(document.body.dataset.connection);
}

function renderCategories() {
  fill($("categories"), status.categories.map((cat) => {
    const info = office.categories.find((c) => c.id === cat.id);
    const [level, label] = lamp(cat);
    const called = cat.called.filter((c) => c.state === "called")
      .map((c) => el("span", { class: "call-at", text: tx.t("public.call_at", { number: c.number, counter: c.counter_number }) }));
    return el("li", { class: "category-card", dataset: { category: cat.id } },
      el("h2", {}, el("span", { class: "prefix", text: cat.prefix }), info ? nameIn(info.names, lang) : cat.id),
      el("span", { class: `lamp lamp-${level}`, dataset: { level }, text: label }),
      el("dl", {},
        el("dt", { text: tx.t("public.waiting") }), el("dd", { class: "waiting", text: tx.count("public.people", cat.waiting) }),
        el("dt", { text: tx.t("public.wait_new") }), el("dd", { class: "estimate", text: cat.estimated_wait_minutes === null ? "—" : tx.minutes(cat.estimated_wait_minutes) }),
        el("dt", { text: tx.t("public.calling") }), el("dd", { class: "called" }, called.length ? called : tx.t("public.none"))));
  }));
}

function renderTypical() {
  const box = $("typical");
  if (!typical || !typical.cells.length) {
    fill(box, el("p", { text: tx.t("public.typical_none") }));
    return;
  }
  const hours = [...new Set(typical.cells.map((c) => c.hour))].sort((a, b) => a - b);
  const max = Math.max(...typical.cells.map((c) => c.mean_issued));
  const value = new Map(typical.cells.map((c) => [`${c.weekday}-${c.hour}`, c.mean_issued]));
  const days = [0, 1, 2, 3, 4, 5, 6].filter((d) => hours.some((h) => value.has(`${d}-${h}`)));
  const names = tx.list("public.weekdays");
  fill(box, el("table", { class: "heat" },
    el("caption", { class: "visually-hidden", text: tx.t("public.typical") }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, el("span", { class: "visually-hidden", text: tx.t("public.hour_column") })), days.map((d) => el("th", { scope: "col", text: names[d] })))),
    el("tbody", {}, hours.map((h) => el("tr", {}, el("th", { scope: "row", text: tx.t("public.hour", { h }) }),
      days.map((d) => {
        const v = value.get(`${d}-${h}`) || 0;
        const level = v === 0 ? 0 : Math.min(3, 1 + Math.floor((3 * v) / (max + 0.001)));
        return el("td", { class: `l${level}`, text: v ? v.toFixed(1) : "" });
      }))))));
}

let connState = "connecting";
let freshness = null; // through the public relay: when its figures were last pushed

function connection(state) {
  connState = state;
  if (!tx) return;
  $("conn").textContent = connectionText(tx, state, freshness);
}

async function main() {
  const [info, config] = await Promise.all([api("/api/v1/office"), api("/api/v1/pages/config")]);
  office = info;
  const offered = offeredLanguages(office);
  if (!offered.includes(lang)) lang = "ja";
  tx = await texts(lang);
  languagePicker($("lang-picker"), lang, tx.t("public.language"), async (chosen) => {
    lang = chosen;
    tx = await texts(lang);
    render();
  }, offered);
  thresholds = { minutes: config.congestion_lamp_minutes, people: config.congestion_lamp_people };
  render();
  api("/api/v1/congestion/typical").then((data) => { typical = data; renderTypical(); }, () => {});
  const refreshOffice = debounce(async () => { office = await api("/api/v1/office"); render(); }, 1000);
  new Live({
    channel: "public",
    heartbeat: config.heartbeat_seconds,
    onSnapshot: (s) => { status = s; render(); },
    onStatus: (s) => { status = s; render(); },
    onEvent: (event) => {
      // Show a call at once; the status message that follows brings the fresh counts.
      if (event.type === "ticket.called" && status && event.ticket) {
        const cat = status.categories.find((c) => c.id === event.ticket.category_id);
        if (cat) {
          cat.called = cat.called.filter((c) => c.counter_number !== event.ticket.counter_number);
          cat.called.push({ ...event.ticket, state: "called" });
          renderCategories();
        }
      }
      if (event.type === "office.updated") refreshOffice();
    },
    onState: connection,
    onFreshness: (updatedAt) => { freshness = updatedAt; connection(connState); },
  }).start();
  document.body.dataset.ready = "true";
}

main();
