// Online pre-application: the resident fills a request form at home and gets a QR code whose
// text is a signed, expiring token. Everything is served by the queue server (no external assets).
// Words come from the visitor catalogue ([apply]); a refused answer is shown next to its field,
// in the visitor's language, with a summary at the top that links to each field.
import { loadTexts, t } from "/assets/js/texts.js";

// Languages whose words every form has (the forms' labels are ja and en today).
const LANGS = ["ja", "en"];
let lang = "ja";
let texts = null;
let office = null;
let forms = {};

const $ = (id) => document.getElementById(id);
const label = (labels) => labels[lang] || labels.en || labels.ja;
const say = (key, values) => t(texts, key, values);

async function useLanguage(code) {
  lang = code;
  texts = await loadTexts(lang);
  document.documentElement.lang = lang;
  document.title = say("apply.title");
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = say(node.dataset.text);
  $("lang-group").setAttribute("aria-label", say("apply.language"));
  $("qr").setAttribute("aria-label", say("apply.qr_label"));
  for (const other of LANGS) $(`lang-${other}`).setAttribute("aria-pressed", String(other === lang));
}

function fillProcedures() {
  const select = $("procedure");
  const chosen = select.value;
  select.replaceChildren();
  for (const category of office.categories.filter((c) => c.forms.length)) {
    select.append(new Option(label(category.names), category.id));
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
    let input;
    if (field.kind === "choice") {
      input = document.createElement("select");
      input.append(new Option(say("apply.choose"), ""));
      for (const choice of field.choices) input.append(new Option(label(choice.labels), choice.value));
    } else if (field.kind === "bool") {
      input = document.createElement("input");
      input.type = "checkbox";
    } else {
      input = document.createElement("input");
      input.type = field.kind === "date" ? "date" : field.kind === "int" ? "number" : "text";
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
    const wrap = document.createElement("div");
    wrap.className = "field";
    wrap.dataset.field = field.name;
    if (field.kind === "bool") {
      lab.className = "check";
      lab.prepend(input);
      wrap.append(error, lab);
    } else {
      wrap.append(lab, error, input);
    }
    form.append(wrap);
  }
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.textContent = say("apply.submit");
  form.append(submit);
}

function collect(spec) {
  const fields = {};
  for (const field of spec.fields) {
    const input = $(`f-${field.name}`);
    if (field.kind === "bool") {
      if (input.checked) fields[field.name] = true;
    } else if (input.value !== "") {
      fields[field.name] = field.kind === "int" ? Number(input.value)
        : field.kind === "lines" ? input.value.split(/[,、\n]/) : input.value;
    }
  }
  return fields;
}

/** The visitor's words for what is wrong with `field` (`problem`: the server's code, if any). */
function message(field, problem = "") {
  if (!field) return say("apply.error_invalid");
  if (problem === "required") return say(field.kind === "choice" ? "apply.error_choose" : "apply.error_required");
  if (field.name === "subject_name" && problem.startsWith("required")) return say("apply.error_subject");
  if (field.name === "members" && problem.startsWith("required")) return say("apply.error_members");
  if (field.name === "include_individual_number") return say("apply.error_proxy_number");
  if (field.kind === "int") return say("apply.error_number", { min: field.minimum ?? 0, max: field.maximum ?? "" });
  if (field.kind === "date") return say("apply.error_date");
  if (field.kind === "text") return say("apply.error_too_long", { max: field.max_length });
  if (field.kind === "lines") return say("apply.error_lines");
  if (field.kind === "choice") return say("apply.error_choose");
  return say("apply.error_invalid");
}

/** What the browser can tell before sending: empty required fields, numbers, dates, lengths. */
function check(spec) {
  const problems = {};
  for (const field of spec.fields) {
    const input = $(`f-${field.name}`);
    if (field.kind === "bool") continue;
    const value = input.value.trim();
    if (!value) {
      if (field.required) problems[field.name] = "required";
    } else if (field.kind === "int") {
      const n = Number(value);
      const bad = !/^\d+$/.test(value) || (field.minimum !== null && n < field.minimum) || (field.maximum !== null && n > field.maximum);
      if (bad || input.validity.badInput) problems[field.name] = "range";
    } else if (field.kind === "date" && (input.validity.badInput || !/^\d{4}-\d{2}-\d{2}$/.test(value))) {
      problems[field.name] = "date";
    } else if (field.kind === "text" && value.length > field.max_length) {
      problems[field.name] = "length";
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
    node.removeAttribute("aria-describedby");
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
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", error.id);
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
  const wanted = new URLSearchParams(location.search).get("lang");
  [office, forms] = await Promise.all([
    fetch("/api/v1/office").then((r) => r.json()),
    fetch("/api/v1/forms").then((r) => r.json()).then((b) => Object.fromEntries(b.forms.map((f) => [f.id, f]))),
    useLanguage(LANGS.includes(wanted) ? wanted : "ja"),
  ]);
  fillProcedures();
  $("procedure").addEventListener("change", fillForms);
  $("form-id").addEventListener("change", renderForm);
  $("request").addEventListener("submit", submit);
  for (const code of LANGS) {
    $(`lang-${code}`).addEventListener("click", async () => {
      await useLanguage(code);
      fillProcedures();
    });
  }
  document.body.dataset.ready = "true";
}

start();
