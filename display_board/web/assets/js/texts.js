// The visitor catalogue (visitor_text/locales/<lang>.toml), served as JSON by the server, with the
// same rules as visitor_text/__init__.py: "{name}" placeholders and the minute counter picked
// by the last digit from [common] minute_counter. One source for Python and the pages.
const cache = new Map();

export async function loadTexts(lang) {
  if (!cache.has(lang)) {
    cache.set(lang, fetch(`/assets/texts/${encodeURIComponent(lang)}.json`).then((r) => {
      if (!r.ok) throw new Error(`no texts for ${lang}`);
      return r.json();
    }));
  }
  return cache.get(lang);
}

function lookup(catalog, key) {
  let node = catalog;
  for (const part of key.split(".")) {
    if (node == null || typeof node !== "object" || !(part in node)) return undefined;
    node = node[part];
  }
  return node;
}

export function format(template, values = {}) {
  return template.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
}

// The sentence `key` ("surface.name") from a loaded catalogue; the key itself when missing, so a
// gap shows up in tests (which check every language has every key) instead of breaking the page.
export function t(catalog, key, values) {
  const found = lookup(catalog, key);
  return typeof found === "string" ? format(found, values) : key;
}

export function table(catalog, key) {
  return lookup(catalog, key);
}

export function minuteCounter(catalog, n) {
  const rule = lookup(catalog, "common.minute_counter");
  return Array.isArray(rule) ? rule[Math.abs(Math.trunc(n)) % 10] : rule;
}

export function minutes(catalog, n, key = "common.minutes") {
  return t(catalog, key, { n, counter: minuteCounter(catalog, n) });
}
