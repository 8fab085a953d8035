// Residents' pages in the kiosk's languages. Every sentence comes from the one visitor catalogue
// (visitor_text/locales/<lang>.toml, served as JSON and read through texts.js): no fallback to
// another language, so a missing sentence shows as its key and fails the tests.
import { loadTexts, minutes, minuteCounter, t, table } from "./texts.js";

// Each language under its own name (proper names: shown as they are on every page).
export const LANGUAGES = [
  ["ja", "日本語"], ["ja-easy", "やさしい にほんご"], ["en", "English"], ["zh-Hans", "简体中文"],
  ["ko", "한국어"], ["vi", "Tiếng Việt"], ["pt", "Português"],
];
const CODES = new Set(LANGUAGES.map(([code]) => code));
const STORE = "madoguchi.lang";

export function pickLanguage() {
  const wanted = new URLSearchParams(location.search).get("lang");
  if (wanted && CODES.has(wanted)) return wanted;
  const saved = localStorage.getItem(STORE);
  if (saved && CODES.has(saved)) return saved;
  for (const l of navigator.languages || []) {
    if (l.startsWith("zh")) return "zh-Hans";
    const base = l.split("-")[0];
    if (CODES.has(base)) return base;
  }
  return "ja";
}

/** The HTML `lang` of a visitor language (やさしい日本語 is Japanese). */
export function htmlLang(lang) {
  return lang === "ja-easy" ? "ja" : lang;
}

/** A language's texts with helpers bound to it: `t(key, values)`, `list(key)`, `minutes(n)`. */
export async function texts(lang) {
  const catalog = await loadTexts(lang);
  return {
    lang,
    catalog,
    t: (key, values) => t(catalog, key, values),
    // A count: `key_one` for exactly one where the language has it ("1 person"), else `key`.
    count: (key, n, values = {}) => t(catalog, n === 1 ? `${key}_one` : key, { ...values, n }),
    list: (key) => table(catalog, key) || [],
    minutes: (n) => minutes(catalog, n),
    // "20分", "20ぷん", "20 min": a duration without "about", read by the shared counter rule.
    duration: (n, key = "public.duration") => t(catalog, key, { n, counter: minuteCounter(catalog, n) }),
    counter: (n) => minuteCounter(catalog, n),
  };
}

/** The languages an office offers (`GET /api/v1/office` → `languages`), in the pages' order. */
export function offeredLanguages(office) {
  const declared = office && Array.isArray(office.languages) ? office.languages : null;
  return LANGUAGES.map(([code]) => code).filter((code) => !declared || code === "ja" || declared.includes(code));
}

/** A language picker wired to reload the page's texts; its label is bilingual on purpose.
 * `offered` (codes) limits it to the office's languages. */
export function languagePicker(node, lang, label, onChange, offered = null) {
  const select = document.createElement("select");
  select.id = "lang";
  for (const [code, name] of LANGUAGES) {
    if (offered && !offered.includes(code)) continue;
    const option = document.createElement("option");
    option.value = code;
    option.lang = htmlLang(code);
    option.textContent = name;
    option.selected = code === lang;
    select.append(option);
  }
  const caption = document.createElement("label");
  caption.htmlFor = "lang";
  caption.id = "lang-label";
  caption.textContent = label;
  select.addEventListener("change", () => {
    localStorage.setItem(STORE, select.value);
    onChange(select.value);
  });
  node.replaceChildren(caption, " ", select);
  return caption;
}

/** The connection line of the residents' pages: live or reconnecting; through the public relay,
 * the time of the latest figures, and whether their updates have stopped. */
export function connectionText(tx, state, updatedAt) {
  const time = updatedAt
    ? new Date(updatedAt).toLocaleTimeString("ja-JP", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tokyo" })
    : null;
  if (state === "stale") return tx.t("public.stale", { time: time || "--:--" });
  if (state === "online") return time ? tx.t("public.updated_at", { time }) : tx.t("public.live");
  return state === "offline" ? tx.t("public.offline") : tx.t("public.connecting");
}
