// 混雑状況: per procedure the waiting count, numbers being called, the estimate and the
// congestion lamp; hours and closed days; typical congestion by weekday and hour. Live.
import { Live, api, debounce, el, fill, nameIn } from "./common.js";
import { languagePicker, pickLanguage, translator } from "./i18n.js";

const $ = (id) => document.getElementById(id);
let lang = pickLanguage();
let t = translator(lang);
let office = null;
let status = null;
let typical = null;
let thresholds = [20, 45];

const LAMP_LABELS = { low: "lampLow", mid: "lampMid", high: "lampHigh", closed: "lampClosed" };

/** The server decides the lamp (with hysteresis, so it does not flicker); the page shows it. */
function lamp(category) {
  const level = LAMP_LABELS[category.congestion] ? category.congestion : "low";
  return [level, t(LAMP_LABELS[level])];
}

function render() {
  document.documentElement.lang = lang === "ja-easy" ? "ja" : lang;
  document.title = t("title");
  $("title").textContent = t("title");
  $("typical-title").textContent = t("typical");
  $("week-title").textContent = t("week");
  $("closed-title").textContent = t("closedDays");
  $("opendata-link").textContent = t("openData");
  $("legend").textContent = t("lampLegend", thresholds[0], thresholds[1]);
  if (office) {
    $("office-name").textContent = nameIn(office.names, lang);
    const hours = office.hours_today ? `${t("hoursToday")}: ${office.hours_today}` : t("closedNow");
    $("open-state").textContent = `${status && status.open ? t("openNow") : t("closedNow")}・${hours}`;
    fill($("week"), el("ul", {}, office.week.map((d) => {
      const wd = t("weekdays")[(new Date(`${d.date}T12:00:00+09:00`).getUTCDay() + 6) % 7];
      return el("li", {}, `${d.date.slice(5).replace("-", "/")}（${wd}） ${d.hours || t("closed")}${d.closed_reason ? `・${d.closed_reason}` : ""}`);
    })));
    fill($("closed-days"), office.closed_days.slice(0, 10).map((d) => el("li", { text: `${d.date} ${d.reason}` })));
  }
  if (status && office) renderCategories();
  renderTypical();
}

function renderCategories() {
  fill($("categories"), status.categories.map((cat) => {
    const info = office.categories.find((c) => c.id === cat.id);
    const [level, label] = lamp(cat);
    const called = cat.called.filter((c) => c.state === "called").map((c) => `${c.number} → ${c.counter_number}`);
    return el("li", { class: "category-card", dataset: { category: cat.id } },
      el("h2", {}, el("span", { class: "prefix", text: cat.prefix }), info ? nameIn(info.names, lang) : cat.id),
      el("span", { class: `lamp lamp-${level}`, text: label }),
      el("dl", {},
        el("dt", { text: t("waiting") }), el("dd", { class: "waiting", text: t("people", cat.waiting) }),
        el("dt", { text: t("wait") }), el("dd", { text: cat.estimated_wait_minutes === null ? "—" : t("minutes", cat.estimated_wait_minutes) }),
        el("dt", { text: t("calling") }), el("dd", { class: "called", text: called.length ? called.join("、") : t("none") })));
  }));
}

function renderTypical() {
  const box = $("typical");
  if (!typical || !typical.cells.length) {
    fill(box, el("p", { text: t("typicalNone") }));
    return;
  }
  const hours = [...new Set(typical.cells.map((c) => c.hour))].sort((a, b) => a - b);
  const max = Math.max(...typical.cells.map((c) => c.mean_issued));
  const value = new Map(typical.cells.map((c) => [`${c.weekday}-${c.hour}`, c.mean_issued]));
  const days = [0, 1, 2, 3, 4, 5, 6].filter((d) => hours.some((h) => value.has(`${d}-${h}`)));
  fill(box, el("table", { class: "heat" },
    el("caption", { class: "visually-hidden", text: t("typical") }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, el("span", { class: "visually-hidden", text: t("hour") })), days.map((d) => el("th", { scope: "col", text: t("weekdays")[d] })))),
    el("tbody", {}, hours.map((h) => el("tr", {}, el("th", { scope: "row", text: `${h}${t("hour")}` }),
      days.map((d) => {
        const v = value.get(`${d}-${h}`) || 0;
        const level = v === 0 ? 0 : Math.min(3, 1 + Math.floor((3 * v) / (max + 0.001)));
        return el("td", { class: `l${level}`, text: v ? v.toFixed(1) : "" });
      }))))));
}

function connection(state) {
  $("conn").textContent = state === "online" ? t("live") : t("offline");
}

async function main() {
  languagePicker($("lang-picker"), lang, (chosen) => {
    lang = chosen;
    t = translator(lang);
    render();
    connection(document.body.dataset.connection);
  });
  const [info, config] = await Promise.all([api("/api/v1/office"), api("/api/v1/pages/config")]);
  office = info;
  thresholds = config.congestion_lamp_minutes;
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
  }).start();
  connection("connecting");
}

main();
