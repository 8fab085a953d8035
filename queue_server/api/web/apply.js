// Online pre-application: the resident fills a request form at home and gets a QR code whose
// text is a signed, expiring token. Everything is served by the queue server (no external assets).
// Page words come from the visitor catalogue ([apply]); the forms' words too ([forms], through
// /api/v1/forms, which joins them to the forms' structure). A refused answer is shown next to its
// field, in the visitor's language ([forms.errors]), with a summary at the top linking to each.
// The office's visitor languages are offered with the same picker as the other phone pages.
import { loadTexts, t } from "/assets/js/texts.js";
import { htmlLang, languagePicker, offeredLanguages, pickLanguage } from "/assets/js/i18n.js";

let lang = pickLanguage();
let texts = null;
let office = null;
let forms = {};

const $ = (id) => document.getElementById(id);
// The forms' words exist in every visitor language: no fallback that would put another
// language's words on the page. Office names are the office's own (Japanese when it has none).
const label = (labels) => (labels && labels[lang]) || "";
const nameOf = (names) => names[lang] || names.ja;
const say = (key, values) => t(texts, key, values);

async function useLanguage(code) {
  lang = code;
  texts = await loadTexts(lang);
  document.documentElement.lang = htmlLang(lang);
  document.title = say("apply.title");
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = say(node.dataset.text);
  const caption = $("lang-label");
  if (caption) caption.textContent = say("apply.language");
  $("qr").setAttribute("aria-label", say("apply.qr_label"));
}

function fillProcedures() {
  const select = $("procedure");
  const chosen = select.value;
  select.replaceChildren();
  for (const category of office.categories.filter((c) => c.forms.length)) {
    select.append(new Option(nameOf(category.names), category.id));
  }
  if (chosen) select.value = chosen;
  fillForms();
}

function fillForms() {
  const category = office.categories.find((c) => c.id === $("procedure").value);
  const select = $("form-id");
  const chosen = select.value;
  select.replaceChildren();
  for (const id of category ? category.forms : []) select.append(new Option(label(forms[id].labels), id));
  if (chosen && [...select.options].some((o) => o.value === chosen)) select.value = chosen;
  renderForm();
}

function renderForm() {
  const spec = forms[$("form-id").value];
  const form = $("request");
  const kept = new FormData(form);
  form.replaceChildren();
  clearErrors();
  if (!spec) return;
  if (spec.notes && label(spec.notes)) {
    const note = document.createElement("p");
    note.className = "hint";
    note.textContent = label(spec.notes);
    form.append(note);
  }
  for (const field of spec.fields) {
    const id = `f-${field.name}`;
    if (field.kind === "date") {
      form.append(dateField(field, kept));
      continue;
    }
    let input;
    if (field.kind === "choice") {
      input = document.createElement("select");
      input.append(new Option(say("apply.choose"), ""));
      for (const choice of field.choices) input.append(new Option(label(choice.labels), choice.value));
    } else if (field.kind === "bool") {
      input = document.createElement("input");
      input.type = "checkbox";
    } else if (field.kind === "lines") {
      input = document.createElement("textarea");
      input.rows = 3;
    } else {
      input = document.createElement("input");
      input.type = field.kind === "int" ? "number" : "text";
      if (field.kind === "int") {
        input.min = field.minimum ?? "";
        input.max = field.maximum ?? "";
        input.inputMode = "numeric";
      }
      if (field.kind === "text") input.maxLength = field.max_length;
    }
    input.id = id;
    input.name = field.name;
    if (field.required) input.required = true;
    const previous = kept.get(field.name);
    if (previous !== null) {
      if (field.kind === "bool") input.checked = previous === "on";
      else input.value = previous;
    }
    const lab = document.createElement("label");
    lab.htmlFor = id;
    lab.textContent = label(field.labels) + (field.required ? say("apply.required") : "");
    // The message sits between the label and the control, where a screen reader and the eye
    // meet it before the control (JIS X 8341-3 / WCAG 3.3.1, 3.3.3).
    const error = document.createElement("p");
    error.className = "field-error";
    error.id = `${id}-error`;
    error.hidden = true;
    const hint = hintOf(field, id);
    if (hint) input.setAttribute("aria-describedby", hint.id);
    const wrap = document.createElement("div");
    wrap.className = "field";
    wrap.dataset.field = field.name;
    if (field.kind === "bool") {
      lab.className = "check";
      lab.prepend(input);
      wrap.append(error, lab);
    } else {
      wrap.append(...[lab, hint, error, input].filter(Boolean));
    }
    form.append(wrap);
  }
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.textContent = say("apply.submit");
  form.append(submit);
}

/** The line under a field's label that helps answer it (「1行に1人ずつ」), or null. */
function hintOf(field, id) {
  const words = label(field.hints);
  if (!words) return null;
  const hint = document.createElement("p");
  hint.className = "hint";
  hint.id = `${id}-hint`;
  hint.textContent = words;
  return hint;
}

// Dates as people know them: an era (令和, 平成, 昭和, 大正) or the western year, then year,
// month and day from short lists, instead of a date picker that makes an elderly visitor
// scroll back decades. The server still receives an ISO date.
const ERAS = [["western", 0], ["reiwa", 2018], ["heisei", 1988], ["showa", 1925], ["taisho", 1911]];
const japanese = () => lang === "ja" || lang === "ja-easy";
// Languages that write the unit after the number: 45 年 4 月 1 日, 1990年, 1990년.
const unitAfter = () => japanese() || lang === "zh-Hans" || lang === "ko";

function dateField(field, kept) {
  const id = `f-${field.name}`;
  const part = (key) => kept.get(`${field.name}__${key}`);
  const era = document.createElement("select");
  era.id = id;
  era.name = `${field.name}__era`;
  if (japanese()) era.append(new Option(say("apply.choose"), ""));
  for (const [key] of ERAS) era.append(new Option(say(`apply.era_${key}`), key));
  era.value = part("era") ?? (japanese() ? "" : "western");
  const year = document.createElement("input");
  year.id = `${id}-year`;
  year.name = `${field.name}__year`;
  year.inputMode = "numeric";
  year.autocomplete = "off";
  year.size = 4;
  year.maxLength = 4;
  year.value = part("year") ?? "";
  const list = (key, n) => {
    const select = document.createElement("select");
    select.id = `${id}-${key}`;
    select.name = `${field.name}__${key}`;
    select.append(new Option("—", ""));
    for (let i = 1; i <= n; i += 1) select.append(new Option(String(i), String(i)));
    select.value = part(key) ?? "";
    return select;
  };
  const controls = [[era, "apply.era"], [year, "apply.year"], [list("month", 12), "apply.month"], [list("day", 31), "apply.day"]];
  const fieldset = document.createElement("fieldset");
  fieldset.className = "field date";
  fieldset.dataset.field = field.name;
  const legend = document.createElement("legend");
  legend.textContent = label(field.labels) + (field.required ? say("apply.required") : "");
  const error = document.createElement("p");
  error.className = "field-error";
  error.id = `${id}-error`;
  error.hidden = true;
  const row = document.createElement("div");
  row.className = "date-parts";
  for (const [control, key] of controls) {
    const caption = document.createElement("label");
    caption.htmlFor = control.id;
    caption.textContent = say(key);
    const pair = document.createElement("span");
    pair.className = "date-part";
    // 「昭和 45 年 4 月 1 日」 in Japanese (and 年/년 in Chinese and Korean); "Year 1970,
    // Month 4, Day 1" elsewhere.
    if (unitAfter() && control !== era) pair.append(control, caption);
    else pair.append(caption, control);
    row.append(pair);
  }
  fieldset.append(legend, error, row);
  return fieldset;
}

/** The ISO date of a date field, "" when left empty, or null when it is not a real date. */
function dateValue(field) {
  const id = `f-${field.name}`;
  const era = $(id).value;
  const year = $(`${id}-year`).value.trim().replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  const month = $(`${id}-month`).value;
  const day = $(`${id}-day`).value;
  if (!era && !year && !month && !day) return "";
  const offset = (ERAS.find(([key]) => key === era) || [])[1];
  if (offset === undefined || !/^\d{1,4}$/.test(year) || !month || !day) return null;
  const y = offset + Number(year);
  const when = new Date(Date.UTC(y, Number(month) - 1, Number(day)));
  if (Number(year) < 1 || when.getUTCFullYear() !== y || when.getUTCMonth() !== Number(month) - 1) return null;
  return `${String(y).padStart(4, "0")}-${month.padStart(2, "0")}-${day.padStart(2, "0")}`;
}

/** Every control of a field (a date has four). */
function controlsOf(field) {
  const id = `f-${field.name}`;
  return field.kind === "date" ? [$(id), $(`${id}-year`), $(`${id}-month`), $(`${id}-day`)] : [$(id)];
}

function collect(spec) {
  const fields = {};
  for (const field of spec.fields) {
    const input = $(`f-${field.name}`);
    if (field.kind === "date") {
      const value = dateValue(field);
      if (value) fields[field.name] = value;
    } else if (field.kind === "bool") {
      if (input.checked) fields[field.name] = true;
    } else if (input.value !== "") {
      fields[field.name] = field.kind === "int" ? Number(input.value)
        : field.kind === "lines" ? input.value.split(/[,、，\n]/) : input.value;
    }
  }
  return fields;
}

/** The visitor's words for what is wrong with `field`: `problem` is a code of the server's
 * validation (queue_server/domain/forms.py PROBLEMS) or of `check()` below, each with its
 * message in the catalogue as forms.errors.<code>. */
function message(field, problem = "") {
  let code = problem;
  if (!field) code = "invalid";
  else if (problem === "required" && field.kind === "choice") code = "choose";
  else if (problem === "required" && field.kind === "date") code = "date";
  const values = field ? { min: field.minimum ?? 0, max: field.kind === "int" ? field.maximum ?? "" : field.max_length } : {};
  const words = texts.forms && texts.forms.errors && texts.forms.errors[code];
  return say(words ? `forms.errors.${code}` : "forms.errors.invalid", values);
}

/** What the browser can tell before sending: empty required fields, numbers, dates, lengths. */
function check(spec) {
  const problems = {};
  for (const field of spec.fields) {
    const input = $(`f-${field.name}`);
    if (field.kind === "bool") continue;
    if (field.kind === "date") {
      const date = dateValue(field);
      if (date === null) problems[field.name] = "date";
      else if (!date && field.required) problems[field.name] = "required";
      continue;
    }
    const value = input.value.trim();
    if (!value) {
      if (field.required) problems[field.name] = "required";
    } else if (field.kind === "int") {
      const n = Number(value);
      const bad = !/^\d+$/.test(value) || (field.minimum !== null && n < field.minimum) || (field.maximum !== null && n > field.maximum);
      if (bad || input.validity.badInput) problems[field.name] = "number";
    } else if (field.kind === "text" && value.length > field.max_length) {
      problems[field.name] = "too_long";
    }
  }
  return problems;
}

function clearErrors() {
  $("errors").hidden = true;
  $("errors-list").replaceChildren();
  for (const node of document.querySelectorAll(".field-error")) {
    node.hidden = true;
    node.textContent = "";
  }
  for (const node of document.querySelectorAll("#request [aria-invalid]")) {
    node.removeAttribute("aria-invalid");
    const hint = document.getElementById(`${node.id}-hint`);
    if (hint) node.setAttribute("aria-describedby", hint.id);
    else node.removeAttribute("aria-describedby");
  }
  for (const node of document.querySelectorAll(".field.invalid")) node.classList.remove("invalid");
}

/** Mark each field, list them at the top (links to the fields) and move the focus there. */
function showErrors(spec, problems) {
  clearErrors();
  // In the order of the form, so the list reads like the page.
  const order = (name) => {
    const at = spec.fields.findIndex((f) => f.name === name);
    return at < 0 ? spec.fields.length : at;
  };
  const items = [];
  for (const [name, problem] of Object.entries(problems).sort(([a], [b]) => order(a) - order(b))) {
    const field = spec.fields.find((f) => f.name === name);
    const text = name ? message(field, problem) : say("apply.error_other");
    const input = field && $(`f-${field.name}`);
    const item = document.createElement("li");
    if (input) {
      const error = $(`f-${field.name}-error`);
      error.textContent = text;
      error.hidden = false;
      const hint = $(`f-${field.name}-hint`);
      for (const control of controlsOf(field)) {
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-describedby", hint ? `${error.id} ${hint.id}` : error.id);
      }
      input.closest(".field").classList.add("invalid");
      const link = document.createElement("a");
      link.href = `#${input.id}`;
      link.textContent = `${label(field.labels)}: ${text}`;
      link.addEventListener("click", (event) => {
        event.preventDefault();
        input.focus();
        input.scrollIntoView({ block: "center" });
      });
      item.append(link);
    } else {
      item.textContent = text;
    }
    items.push(item);
  }
  $("errors-title").textContent = say("apply.error_summary", { n: items.length });
  $("errors-list").replaceChildren(...items);
  $("errors").hidden = false;
  $("errors").focus();
  $("errors").scrollIntoView({ block: "start" });
}

async function submit(event) {
  event.preventDefault();
  const spec = forms[$("form-id").value];
  const found = check(spec);
  if (Object.keys(found).length) {
    showErrors(spec, found);
    return;
  }
  clearErrors();
  $("sending").textContent = say("apply.sending");
  let response;
  let body;
  try {
    response = await fetch("/api/v1/preapplications", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ category_id: $("procedure").value, form: spec.id, fields: collect(spec), language: lang }),
    });
    body = await response.json();
  } catch (error) {
    $("sending").textContent = say("apply.error_network");
    return;
  }
  $("sending").textContent = "";
  if (!response.ok) {
    const problems = (body.error && body.error.problems) || {};
    showErrors(spec, Object.keys(problems).length ? problems : { "": "" });
    return;
  }
  const result = body.preapplication;
  $("qr").innerHTML = result.qr_svg;
  $("qr").dataset.code = result.code;
  $("expires").textContent = result.expires_at.replace("T", " ").slice(0, 16);
  $("fee").textContent = say("apply.yen", { n: result.fee_total.toLocaleString() });
  $("done").hidden = false;
  $("done").scrollIntoView();
}

async function start() {
  [office, forms] = await Promise.all([
    fetch("/api/v1/office").then((r) => r.json()),
    fetch("/api/v1/forms").then((r) => r.json()).then((b) => Object.fromEntries(b.forms.map((f) => [f.id, f]))),
  ]);
  const offered = offeredLanguages(office);
  if (!offered.includes(lang)) lang = "ja";
  await useLanguage(lang);
  languagePicker($("lang-picker"), lang, say("apply.language"), async (chosen) => {
    await useLanguage(chosen);
    fillProcedures();
  }, offered);
  fillProcedures();
  $("procedure").addEventListener("change", fillForms);
  $("form-id").addEventListener("change", renderForm);
  $("request").addEventListener("submit", submit);
  document.body.dataset.ready = "true";
}

start();
