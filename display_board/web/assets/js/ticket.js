// The slip's QR: one ticket followed live (no login: the unguessable public id is the key).
// Opt-in browser notification and vibration when few people are ahead and when called.
import { Live, api, ApiError, debounce, nameIn } from "./common.js";
import { languagePicker, pickLanguage, translator } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const publicId = decodeURIComponent(location.pathname.split("/").pop());
const STORE = `madoguchi.notify.${publicId}`;
let lang = pickLanguage();
let t = translator(lang);
let office = null;
let ticket = null;
let settings = JSON.parse(localStorage.getItem(STORE) || '{"on":false,"ahead":3,"told":[]}');

function save() {
  localStorage.setItem(STORE, JSON.stringify(settings));
}

function render() {
  document.documentElement.lang = lang === "ja-easy" ? "ja" : lang;
  $("title").textContent = t("yourNumber");
  $("number-label").textContent = t("yourNumber");
  $("ahead-label").textContent = t("ahead");
  $("wait-label").textContent = t("wait");
  $("notify-title").textContent = t("notifyTitle");
  $("notify-when-label").textContent = t("notifyWhen");
  $("notify-toggle").textContent = settings.on ? t("notifyOff") : t("notifyOn");
  $("notify-toggle").setAttribute("aria-pressed", String(settings.on));
  $("notify-ahead").value = String(settings.ahead);
  $("congestion-link").textContent = t("congestionLink");
  if (office) $("office-name").textContent = nameIn(office.names, lang);
  if (!ticket) return;
  document.title = `${t("yourNumber")} ${ticket.number}`;
  document.body.dataset.state = ticket.state;
  $("number").textContent = ticket.number;
  const category = office && office.categories.find((c) => c.id === ticket.category_id);
  $("category").textContent = category ? nameIn(category.names, lang) : "";
  $("state").textContent = (t("states") || {})[ticket.state] || ticket.state;
  $("where").textContent = ticket.state === "called" && ticket.counter_number ? t("counterGo", ticket.counter_number) : "";
  const waiting = ticket.state === "issued";
  $("ahead").textContent = waiting ? t("aheadN", ticket.ahead) : "—";
  $("wait").textContent = waiting && ticket.estimated_wait_minutes !== null ? t("minutes", ticket.estimated_wait_minutes) : "—";
}

function tell(key, text) {
  // Each message once per ticket (kept across reloads), so a phone does not buzz repeatedly.
  if (settings.told.includes(key)) return;
  settings.told.push(key);
  save();
  if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
  if ("Notification" in window && Notification.permission === "granted") {
    try {
      new Notification(text, { tag: `madoguchi-${publicId}` });
    } catch (error) { /* some mobile browsers only notify from a service worker */ }
  }
  $("notify-message").textContent = text;
}

function maybeNotify() {
  if (!settings.on || !ticket) return;
  if (ticket.state === "called") {
    tell(`called-${ticket.recall_count}`, t("notifyCalled", ticket.number, ticket.counter_number));
  } else if (ticket.state === "issued" && ticket.ahead <= settings.ahead) {
    tell(`ahead-${settings.ahead}`, t("notifyAhead", ticket.ahead, ticket.number));
  }
}

async function load() {
  try {
    ticket = (await api(`/api/v1/tickets/by-public-id/${encodeURIComponent(publicId)}`)).ticket;
    $("missing").hidden = true;
    render();
    maybeNotify();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      $("missing").hidden = false;
      $("missing").textContent = t("notFound");
      document.body.dataset.state = "missing";
    }
  }
}
const loadSoon = debounce(load, 100);

async function toggle() {
  if (settings.on) {
    settings.on = false;
  } else {
    settings.on = true;
    settings.told = [];
    if ("Notification" in window && Notification.permission === "default") {
      await Notification.requestPermission();
    }
    if (!("Notification" in window) || Notification.permission !== "granted") {
      $("notify-message").textContent = t("notifyBlocked");
    }
  }
  save();
  render();
  maybeNotify();
}

async function main() {
  languagePicker($("lang-picker"), lang, (chosen) => {
    lang = chosen;
    t = translator(lang);
    render();
  });
  $("notify-toggle").addEventListener("click", toggle);
  $("notify-ahead").addEventListener("change", (e) => {
    settings.ahead = Number(e.target.value);
    settings.told = settings.told.filter((k) => !k.startsWith("ahead"));
    save();
    maybeNotify();
  });
  render();
  api("/api/v1/office").then((info) => { office = info; render(); }, () => {});
  await load();
  new Live({
    channel: "public",
    onSnapshot: loadSoon,
    onStatus: loadSoon,
    onEvent: (event) => {
      if (ticket && event.ticket && event.ticket.number === ticket.number) load();
    },
    onState: (state) => { $("conn").textContent = state === "online" ? t("live") : t("offline"); },
  }).start();
}

main();
