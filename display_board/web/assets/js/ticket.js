// The slip's QR: one ticket followed live (no login: the unguessable public id is the key).
// Opt-in notices when few people are ahead and when called: on this screen (browser
// notification and vibration), or by Web Push, e-mail or LINE (ticket-notify.js).
// Every word comes from the visitor catalogue ([public]) in the visitor's language.
import { Live, api, ApiError, debounce, nameIn } from "./common.js";
import { connectionText, htmlLang, languagePicker, offeredLanguages, pickLanguage, texts } from "./i18n.js";
import { NotifyPanel } from "./ticket-notify.js";

const $ = (id) => document.getElementById(id);
const publicId = decodeURIComponent(location.pathname.split("/").pop());
const STORE = `madoguchi.notify.${publicId}`;
let lang = pickLanguage();
let tx = null;
let office = null;
let ticket = null;
let missing = false;
let settings = JSON.parse(localStorage.getItem(STORE) || '{"on":false,"ahead":3,"told":[],"channel":"page","token":null}');

function save() {
  localStorage.setItem(STORE, JSON.stringify(settings));
}

/** Where to go now: the counter calling this ticket, or the one to speak to after a no-show. */
function where() {
  if (ticket.state === "called" && ticket.counter_number) {
    return tx.t("public.go_to_counter", { counter: ticket.counter_number });
  }
  if (ticket.state === "no_show") {
    return ticket.counter_number
      ? tx.t("public.no_show_counter", { counter: ticket.counter_number })
      : tx.t("public.no_show_any");
  }
  return "";
}

function render() {
  if (!tx) return;
  document.documentElement.lang = htmlLang(lang);
  document.title = tx.t("public.your_number");
  $("skip").textContent = tx.t("public.skip");
  $("lang-label").textContent = tx.t("public.language");
  $("title").textContent = tx.t("public.your_number");
  $("number-label").textContent = tx.t("public.your_number");
  $("ahead-label").textContent = tx.t("public.ahead");
  $("wait-label").textContent = tx.t("public.wait");
  panel.render(tx);
  $("congestion-link").textContent = tx.t("public.congestion_link");
  $("missing").textContent = missing ? tx.t("public.not_found") : "";
  $("missing").hidden = !missing;
  if (office) $("office-name").textContent = nameIn(office.names, lang);
  // Notifications only help while waiting: called, finished or missed tickets hide the panel.
  $("notify").hidden = !ticket || ticket.state !== "issued";
  connection(document.body.dataset.connection);
  if (!ticket) return;
  document.title = `${tx.t("public.your_number")} ${ticket.number}`;
  document.body.dataset.state = ticket.state;
  $("number").textContent = ticket.number;
  const category = office && office.categories.find((c) => c.id === ticket.category_id);
  $("category").textContent = category ? nameIn(category.names, lang) : "";
  const states = tx.list("public.states");
  $("state").textContent = states[ticket.state] || ticket.state;
  $("where").textContent = where();
  const waiting = ticket.state === "issued";
  $("figures").hidden = !waiting;
  $("ahead").textContent = waiting ? tx.t("public.ahead_n", { n: ticket.ahead }) : "—";
  $("wait").textContent = waiting && ticket.estimated_wait_minutes !== null ? tx.minutes(ticket.estimated_wait_minutes) : "—";
}

let connState = "connecting";
let freshness = null; // through the public relay: when its figures were last pushed

function connection(state) {
  connState = state;
  $("conn").textContent = connectionText(tx, state, freshness);
}

function tell(key, text) {
  // Each message once per ticket (kept across reloads), so a phone does not buzz repeatedly.
  if (settings.told.includes(key)) return;
  settings.told.push(key);
  save();
  if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
  // Web Push, e-mail and LINE come from the server; a browser notification here would repeat it.
  const here = !settings.channel || settings.channel === "page";
  if (here && "Notification" in window && Notification.permission === "granted") {
    try {
      new Notification(text, { tag: `madoguchi-${publicId}` });
    } catch (error) { /* some mobile browsers only notify from a service worker */ }
  }
  $("notify-message").textContent = text;
}

function maybeNotify() {
  if (!settings.on || !ticket) return;
  if (ticket.state === "called") {
    tell(`called-${ticket.recall_count}`, tx.t("public.notify_called", { number: ticket.number, counter: ticket.counter_number }));
  } else if (ticket.state === "issued" && ticket.ahead <= settings.ahead) {
    tell(`ahead-${settings.ahead}`, tx.count("public.notify_ahead", ticket.ahead, { number: ticket.number }));
  }
  if (ticket.state !== "issued" && ticket.state !== "called") $("notify-message").textContent = "";
}

let loads = 0;

async function load() {
  // Loads overlap (a status and an event close together): an older answer arriving last must
  // not put back a state the page has already moved past.
  const mine = ++loads;
  try {
    const found = (await api(`/api/v1/tickets/by-public-id/${encodeURIComponent(publicId)}`)).ticket;
    if (mine !== loads) return;
    ticket = found;
    missing = false;
    render();
    maybeNotify();
  } catch (error) {
    if (mine === loads && error instanceof ApiError && error.status === 404) {
      missing = true;
      ticket = null;
      document.body.dataset.state = "missing";
      render();
    }
  }
}
const loadSoon = debounce(load, 100);

const panel = new NotifyPanel({
  publicId,
  settings,
  save,
  changed: () => { render(); maybeNotify(); },
  language: () => lang,
});

function picker(offered = null) {
  languagePicker($("lang-picker"), lang, tx.t("public.language"), async (chosen) => {
    lang = chosen;
    tx = await texts(lang);
    render();
  }, offered);
}

async function main() {
  tx = await texts(lang);
  picker();
  $("notify-ahead").addEventListener("change", (e) => {
    settings.ahead = Number(e.target.value);
    settings.told = settings.told.filter((k) => !k.startsWith("ahead"));
    save();
    maybeNotify();
  });
  render();
  panel.start();
  api("/api/v1/office").then(async (info) => {
    office = info;
    const offered = offeredLanguages(office);
    if (!offered.includes(lang)) {
      lang = "ja";
      tx = await texts(lang);
    }
    picker(offered);
    render();
  }, () => {});
  await load();
  new Live({
    channel: "public",
    onSnapshot: loadSoon,
    onStatus: loadSoon,
    onEvent: (event) => {
      if (ticket && event.ticket && event.ticket.number === ticket.number) load();
    },
    onState: connection,
    onFreshness: (updatedAt) => { freshness = updatedAt; connection(connState); },
  }).start();
  document.body.dataset.ready = "true";
}

main();
