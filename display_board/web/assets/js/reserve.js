// 来庁予約: procedure -> day -> slot -> (optional reminder the day before, on a channel the
// office sends on: e-mail, push on this device, LINE) -> booked, with the QR and the short
// code; the same page looks up, changes and cancels a booking with either. No account, no
// cookies: the code is the key. Every sentence comes from visitor_text ([reserve]).
import { api, ApiError, el, fill, nameIn } from "./common.js";
import { languagePicker, pickLanguage } from "./i18n.js";
import { relayProblem, send } from "./relay_request.js";
import { loadTexts, t as tr } from "./texts.js";
import { dropPush, permitted, pushSubscription, pushSupported } from "./ticket-notify.js";

const $ = (id) => document.getElementById(id);
const STEPS = ["procedure", "day", "slot", "contact", "done"];
let lang = pickLanguage();
let texts = {};
let office = null;
let procedures = [];
const state = { procedure: null, day: null, slot: null, booking: null, code: null, mode: "book" };
// The reminder channels this server sends on, in the order shown; "" is no reminder.
let channels = [];
let reminder = "";

const t = (key, values) => tr(texts, `reserve.${key}`, values);
const locale = () => (lang === "ja-easy" ? "ja" : lang);

function dayLabel(iso) {
  const day = new Date(`${iso}T12:00:00+09:00`);
  return new Intl.DateTimeFormat(locale(), {
    timeZone: "Asia/Tokyo", month: "long", day: "numeric", weekday: "short",
  }).format(day);
}
const hhmm = (iso) => iso.slice(11, 16);
const procedureName = (id) => {
  const found = procedures.find((p) => p.id === id);
  return found ? nameIn(found.names, lang) : id;
};

function say(text, ok = false) {
  $("message").textContent = text || "";
  $("message").classList.toggle("ok", ok);
}

function show(step) {
  for (const name of STEPS) $(`step-${name}`).hidden = name !== step;
  const heading = $(`h-${step}`);
  if (heading && step !== "procedure") heading.focus();
}

function choice(label, left, { disabled = false, pressed = false, onclick }) {
  return el("li", {}, el("button", {
    type: "button", disabled, "aria-pressed": String(pressed), onclick,
  }, el("span", { text: label }), el("span", { class: "left", text: left })));
}

function renderProcedures() {
  fill($("procedures"), procedures.map((p) => choice(nameIn(p.names, lang), t("minutes_slot", { n: p.slot_minutes }), {
    pressed: state.procedure === p.id,
    onclick: () => { state.procedure = p.id; state.mode = "book"; loadDays().catch((e) => say(failure(e))); },
  })));
}

async function loadDays() {
  say("");
  const answer = await api(`/api/v1/reserve/procedures/${encodeURIComponent(state.procedure)}/days`);
  $("day-procedure").textContent = procedureName(state.procedure);
  if (!answer.days.length) {
    fill($("days"), el("li", { text: t("no_days") }));
  } else {
    fill($("days"), answer.days.map((d) => choice(dayLabel(d.date), d.full ? t("full") : t("left", { n: d.left }), {
      disabled: d.full,
      pressed: state.day === d.date,
      onclick: () => { state.day = d.date; loadSlots().catch((e) => say(failure(e))); },
    })));
  }
  show("day");
}

async function loadSlots() {
  say("");
  const path = `/api/v1/reserve/procedures/${encodeURIComponent(state.procedure)}/slots`;
  const answer = await api(`${path}?date=${encodeURIComponent(state.day)}`);
  $("slot-day").textContent = `${procedureName(state.procedure)} — ${dayLabel(state.day)}`;
  const open = answer.slots.filter((s) => s.bookable || s.left === 0);
  if (!answer.slots.some((s) => s.bookable)) {
    fill($("slots"), el("li", { text: t("no_slots") }));
  } else {
    fill($("slots"), open.map((s) => choice(`${hhmm(s.start)}–${hhmm(s.end)}`,
      s.bookable ? t("left", { n: s.left }) : t("full"), {
        disabled: !s.bookable,
        pressed: state.slot && state.slot.start === s.start,
        onclick: () => { state.slot = s; toContact(); },
      })));
  }
  show("slot");
}

function renderReminderChoices() {
  const offered = ["", ...["webpush", "email", "line"].filter((c) => channels.includes(c))]
    .filter((c) => c !== "webpush" || pushSupported());
  if (!offered.includes(reminder)) reminder = "";
  fill($("reminder-choices"), offered.map((channel) => el("label", { class: "choice" },
    el("input", {
      type: "radio", name: "reminder", value: channel, checked: channel === reminder,
      onchange: () => { reminder = channel; renderReminderChoices(); },
    }),
    " ", channel ? tr(texts, `public.notify_channel_${channel}`) : t("reminder_none"))));
  $("email-field").hidden = reminder !== "email";
  $("line-field").hidden = reminder !== "line";
  $("email-hint").hidden = reminder === "";
}

/** The reminder the booking asks for, or null: the address for e-mail and LINE, this browser's
 * push subscription (the page's own service worker, scope /reserve) for Web Push. */
async function reminderChoice() {
  if (reminder === "email" && $("email").value.trim()) return { channel: "email", address: $("email").value.trim() };
  if (reminder === "line" && $("line-id").value.trim()) return { channel: "line", address: $("line-id").value.trim() };
  if (reminder !== "webpush") return null;
  if (!(await permitted())) throw new Error("push");
  return { channel: "webpush", address: JSON.stringify(await pushSubscription()) };
}

async function stopReminder() {
  const b = state.booking;
  if (!b || !b.reminder_token) return;
  try {
    await send("/api/v1/notify/unsubscribe", { method: "POST", body: { token: b.reminder_token } }, waitingNote);
    if (b.reminder_channel === "webpush") await dropPush().catch(() => {});
    b.reminder = false;
    delete b.reminder_token;
    say(t("reminder_stopped"), true);
    renderBooking();
  } catch (error) {
    say(failure(error));
  }
}

function toContact() {
  $("summary").textContent = `${procedureName(state.procedure)} — ${dayLabel(state.day)} ${hhmm(state.slot.start)}–${hhmm(state.slot.end)}`;
  $("reminder-block").hidden = state.mode === "change" || channels.length === 0;
  renderReminderChoices();
  $("book").textContent = state.mode === "change" ? t("change") : t("book");
  show("contact");
}

function failure(error) {
  const relayed = relayProblem(error);
  if (relayed) return t(relayed);
  if (error instanceof ApiError) {
    const known = {
      slot_full: "slot_full", slot_unavailable: "slot_unavailable", reservation_not_found: "not_found",
      code_unknown: "not_found", code_tampered: "not_found", code_expired: "not_found",
    };
    if (error.code === "invalid_request" && reminder === "email") return t("email_invalid");
    if (error.code === "invalid_request" && reminder) return tr(texts, "public.notify_address_invalid");
    if (error.code === "rate_limited") return tr(texts, "common.rate_limited");
    if (known[error.code]) return t(known[error.code]);
  }
  if (error instanceof Error && error.message === "push") return tr(texts, "public.notify_push_failed");
  return t("failed");
}

// Through the relay an answer may take a moment: say that it is on its way.
const waitingNote = { onWaiting: () => say(t("waiting"), true) };

async function submit() {
  const button = $("book");
  button.disabled = true;
  say(t("booking"), true);
  try {
    let answer;
    if (state.mode === "change") {
      answer = await send("/api/v1/reservations/change", { method: "POST", body: { code: state.code, start: state.slot.start } }, waitingNote);
      state.booking = answer.reservation;
      say(t("changed"), true);
    } else {
      const chosen = await reminderChoice();
      answer = await send("/api/v1/reservations", {
        method: "POST",
        body: { category_id: state.procedure, start: state.slot.start, language: lang, reminder: chosen },
      }, waitingNote);
      state.booking = answer.reservation;
      state.code = answer.reservation.short_code;
      say("");
    }
    renderBooking();
  } catch (error) {
    say(failure(error));
    if (error instanceof ApiError && error.code === "slot_full") loadSlots().catch(() => {});
  } finally {
    button.disabled = false;
  }
}

function renderBooking() {
  const b = state.booking;
  if (!b) return;
  $("h-done").textContent = state.mode === "change" || !b.short_code ? t("your_reservation") : t("done_title");
  $("done-summary").textContent = `${nameIn(b.names, lang)} — ${dayLabel(b.date)} ${hhmm(b.slot_start)}–${hhmm(b.slot_end)}`;
  $("done-state").textContent = t(`state_${b.state}`);
  const live = b.state === "booked";
  $("show-qr").textContent = live ? t("show_qr") : "";
  $("qr").hidden = !(live && b.qr_svg);
  if (live && b.qr_svg) {
    $("qr").src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(b.qr_svg)}`;
    $("qr").alt = t("show_qr");
  }
  $("short-block").hidden = !b.short_code;
  if (b.short_code) {
    $("short-label").textContent = t("short_code_label");
    $("short-code").textContent = b.short_code;
    $("short-note").textContent = t("short_code_note");
  }
  $("window").textContent = live ? t("check_in_window", { start: hhmm(b.check_in_from), end: hhmm(b.check_in_until) }) : "";
  $("change").hidden = !live;
  $("cancel").hidden = !live;
  const reminding = live && Boolean(b.reminder_token);
  $("reminder-note").hidden = !reminding;
  if (reminding) {
    $("reminder-state").textContent = t("reminder_set", { channel: tr(texts, `public.notify_channel_${b.reminder_channel}`) });
    $("reminder-stop").textContent = t("reminder_stop_button");
  }
  show("done");
}

async function lookUp() {
  const code = $("manage-code").value.trim();
  if (!code) return;
  try {
    const answer = await send("/api/v1/reservations/lookup", { method: "POST", body: { code } }, waitingNote);
    state.booking = answer.reservation;
    state.code = code;
    state.mode = "manage";
    say("");
    renderBooking();
  } catch (error) {
    say(failure(error));
  }
}

async function cancel() {
  if (!window.confirm(t("cancel_confirm"))) return;
  try {
    const answer = await send("/api/v1/reservations/cancel", { method: "POST", body: { code: state.code } }, waitingNote);
    state.booking = { ...answer.reservation, short_code: undefined };
    say(t("cancelled"), true);
    renderBooking();
  } catch (error) {
    say(failure(error));
  }
}

function change() {
  state.mode = "change";
  state.procedure = state.booking.category_id;
  state.day = state.booking.date;
  state.slot = null;
  loadDays().catch((error) => say(failure(error)));
}

function renderTexts() {
  document.documentElement.lang = locale();
  document.title = t("title");
  $("title").textContent = t("title");
  $("intro").textContent = t("intro");
  $("walk-in").textContent = t("walk_in_note");
  $("h-procedure").textContent = t("step_procedure");
  $("h-day").textContent = t("step_day");
  $("h-slot").textContent = t("step_slot");
  $("h-contact").textContent = t("step_contact");
  $("reminder-legend").textContent = t("reminder_legend");
  $("line-label").textContent = tr(texts, "public.notify_line_label");
  if (!$("step-contact").hidden) renderReminderChoices();
  $("email-label").textContent = t("email_label");
  $("email-hint").textContent = t("reminder_hint");
  for (const back of document.querySelectorAll("button.back")) back.textContent = t("back");
  $("book").textContent = state.mode === "change" ? t("change") : t("book");
  $("change").textContent = t("change_time");
  $("cancel").textContent = t("cancel");
  $("h-manage").textContent = t("manage_title");
  $("manage-label").textContent = t("manage_label");
  $("manage-find").textContent = t("manage_find");
  $("congestion-link").textContent = t("congestion_link");
  if (office) $("office-name").textContent = nameIn(office.names, lang);
  renderProcedures();
  if (!$("step-done").hidden) renderBooking();
}

async function setLanguage(chosen) {
  lang = chosen;
  texts = await loadTexts(lang);
  renderTexts();
  // Lists carry translated words (dates, "left"): refresh the visible step.
  if (!$("step-day").hidden) loadDays().catch((e) => say(failure(e)));
  if (!$("step-slot").hidden) loadSlots().catch((e) => say(failure(e)));
}

async function main() {
  languagePicker($("lang-picker"), lang, (chosen) => { setLanguage(chosen); });
  texts = await loadTexts(lang);
  for (const back of document.querySelectorAll("button.back")) {
    back.addEventListener("click", () => { say(""); show(back.dataset.to); });
  }
  $("book").addEventListener("click", submit);
  $("cancel").addEventListener("click", cancel);
  $("change").addEventListener("click", change);
  $("manage-find").addEventListener("click", lookUp);
  $("reminder-stop").addEventListener("click", stopReminder);
  send("/api/v1/notify/channels").then((found) => { channels = found.channels; }, () => {});
  $("manage-code").addEventListener("keydown", (e) => { if (e.key === "Enter") lookUp(); });
  renderTexts();
  api("/api/v1/office").then((info) => { office = info; renderTexts(); }, () => {});
  try {
    procedures = (await api("/api/v1/reserve/procedures")).procedures;
  } catch (error) {
    say(failure(error)); // e.g. through a relay whose queue server is away: "unavailable"
    return;
  }
  renderTexts();
}

main();
