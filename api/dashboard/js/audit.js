// The audit trail for auditors: who read or changed personal data, when, for which case and
// why, oldest first as the log is kept, and whether its hash chain is still intact.

import { getJSON } from "./api.js";
import { $, attempt, el, formatTime, fromLocalInput } from "./ui.js";

export function initAudit() {
  const form = $("#audit-form");
  const body = $("#audit-entries tbody");
  const summary = $("#audit-summary");
  let filters = {};
  let after = 0; // the last entry shown: the log pages by id

  function row(entry) {
    return el("tr", { title: JSON.stringify(entry.params) }, [
      el("td", {}, formatTime(entry.at)),
      el("td", {}, `${entry.actor_name} (${entry.role})`),
      el("td", {}, `${entry.method} ${entry.route}`),
      el("td", {}, entry.case_id || "—"),
      el("td", {}, entry.reason || "—"),
      el("td", {}, entry.result_count ?? "—"),
    ]);
  }

  async function load(more) {
    summary.textContent = "loading…";
    const entries = await attempt(
      () => getJSON("/audit", { ...filters, after_id: after, limit: 100 }),
      (message) => (summary.textContent = message),
    );
    if (!entries) return;
    if (!more) body.replaceChildren();
    body.append(...entries.map(row));
    if (entries.length) after = entries[entries.length - 1].id;
    $("#audit-more").hidden = entries.length < 100;
    summary.textContent = `${body.children.length} entries`;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    filters = {
      actor: form.actor.value.trim(),
      case: form.case.value.trim(),
      since: fromLocalInput(form.since.value),
      until: fromLocalInput(form.until.value),
    };
    after = 0;
    load(false);
  });
  $("#audit-more").addEventListener("click", () => load(true));
  $("#audit-verify").addEventListener("click", async () => {
    const chain = await attempt(() => getJSON("/audit/verify"));
    if (!chain) return;
    $("#audit-chain").textContent = chain.intact
      ? "intact: no entry was edited, inserted or deleted"
      : `broken at entry ${chain.first_broken_id}`;
  });
}
