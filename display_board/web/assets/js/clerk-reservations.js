// The clerk console's list of today's visit reservations (来庁予約): time, procedure, whether
// the visitor has checked in. No contact data reaches the console.
import { api, el, fill } from "./common.js";
import { session } from "./staff.js";

const STATES = { booked: "未受付", checked_in: "受付済み", cancelled: "取消", no_show: "来庁なし" };
const REFRESH_MS = 30000;
let names = {};

async function refresh() {
  const current = session();
  const box = document.getElementById("reservations");
  if (!current || !box || document.getElementById("console").hidden) return;
  try {
    const day = await api("/api/v1/reservations", { token: current.token });
    const rows = day.reservations.filter((r) => r.state !== "cancelled");
    if (!rows.length) {
      fill(box, el("p", { class: "empty", text: "予約なし" }));
      return;
    }
    const checkedIn = rows.filter((r) => r.state === "checked_in").length;
    fill(box,
      el("p", { text: `${rows.length}件（受付済み ${checkedIn}件）` }),
      el("table", { class: "list" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "時間" }),
          el("th", { scope: "col", text: "手続き" }), el("th", { scope: "col", text: "状態" }))),
        el("tbody", {}, rows.map((r) => el("tr", { dataset: { state: r.state } },
          el("td", { text: r.slot_start.slice(11, 16) }),
          el("td", { text: names[r.category_id] || r.category_id }),
          el("td", { text: STATES[r.state] || r.state }))))));
  } catch (error) {
    /* the console shows connection problems itself */
  }
}

async function main() {
  try {
    const office = await api("/api/v1/office");
    names = Object.fromEntries(office.categories.map((c) => [c.id, c.names.ja]));
  } catch (error) { /* ids are shown instead */ }
  refresh();
  setInterval(refresh, REFRESH_MS);
  new MutationObserver(refresh).observe(document.getElementById("console"), { attributes: true, attributeFilter: ["hidden"] });
}

main();
