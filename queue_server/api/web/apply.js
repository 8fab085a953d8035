// Online pre-application: the resident fills a request form at home and gets a QR code whose
// text is a signed, expiring token. Everything is served by the queue server (no external assets).
let lang = "ja";
let office = null;
let forms = {};

const $ = (id) => document.getElementById(id);
const label = (labels) => labels[lang] || labels.en || labels.ja;

function translateStatic() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-ja]")) {
    el.textContent = el.dataset[lang] || el.dataset.ja;
  }
  $("lang-ja").setAttribute("aria-pressed", String(lang === "ja"));
  $("lang-en").setAttribute("aria-pressed", String(lang === "en"));
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
      input.append(new Option("—", ""));
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
    lab.textContent = label(field.labels) + (field.required ? (lang === "ja" ? "（必須）" : " (required)") : "");
    if (field.kind === "bool") {
      lab.className = "check";
      lab.prepend(input);
      form.append(lab);
    } else {
      form.append(lab, input);
    }
  }
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.textContent = lang === "ja" ? "QRコードを作成" : "Get my QR code";
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

async function submit(event) {
  event.preventDefault();
  const spec = forms[$("form-id").value];
  $("errors").textContent = "";
  const response = await fetch("/api/v1/preapplications", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ category_id: $("procedure").value, form: spec.id, fields: collect(spec), language: lang }),
  });
  const body = await response.json();
  if (!response.ok) {
    const problems = body.error.problems || {};
    const lines = Object.entries(problems).map(([name, problem]) => {
      const field = spec.fields.find((f) => f.name === name);
      return `${field ? label(field.labels) : name}: ${problem}`;
    });
    $("errors").textContent = [lang === "ja" ? body.error.message_ja || body.error.message : body.error.message, ...lines].join("\n");
    return;
  }
  const result = body.preapplication;
  $("qr").innerHTML = result.qr_svg;
  $("qr").dataset.code = result.code;
  $("expires").textContent = result.expires_at.replace("T", " ").slice(0, 16);
  $("fee").textContent = `${result.fee_total.toLocaleString()}円`;
  $("done").hidden = false;
  $("done").scrollIntoView();
}

async function start() {
  [office, forms] = await Promise.all([
    fetch("/api/v1/office").then((r) => r.json()),
    fetch("/api/v1/forms").then((r) => r.json()).then((b) => Object.fromEntries(b.forms.map((f) => [f.id, f]))),
  ]);
  const wanted = new URLSearchParams(location.search).get("lang");
  if (wanted === "en") lang = "en";
  translateStatic();
  fillProcedures();
  $("procedure").addEventListener("change", fillForms);
  $("form-id").addEventListener("change", renderForm);
  $("request").addEventListener("submit", submit);
  for (const code of ["ja", "en"]) {
    $(`lang-${code}`).addEventListener("click", () => { lang = code; translateStatic(); fillProcedures(); });
  }
  document.body.dataset.ready = "true";
}

start();
