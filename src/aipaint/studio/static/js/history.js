// History and gallery: the caller's tasks, newest first, filtered by model and status, a page at
// a time; outputs shown in place; "run again" fills the studio's form with a task's params.

import { api } from "./api.js";
import { h } from "./dom.js";
import { categoryLabel, pick, t } from "./i18n.js";
import { MAX_COMPARED } from "./detail.js";
import { TaskCard, isFinal } from "./tasks.js";

const PAGE = 12;
const STATUSES = ["pending", "queued", "running", "succeeded", "failed", "canceled"];
const stops = [];
// Tasks picked for comparison, kept while the user filters, pages and comes back.
const selected = new Map();

export async function historyView(root, { catalog, titleOf, runAgain, filters }) {
  while (stops.length) stops.pop()();
  const modelSelect = h(
    "select",
    { id: "history-model", onchange: () => reload() },
    h("option", { value: "" }, t("history.all_models")),
    groupedOptions(catalog.models),
  );
  const statusSelect = h(
    "select",
    { id: "history-status", onchange: () => reload() },
    h("option", { value: "" }, t("history.all_status")),
    STATUSES.map((status) => h("option", { value: status }, t(`status.${status}`))),
  );
  modelSelect.value = filters.model || "";
  statusSelect.value = filters.status || "";
  const grid = h("div", { class: "history-grid", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "ghost", hidden: true, onclick: () => load() }, t("history.more"));
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const count = h("span", { class: "compare-count", "aria-live": "polite" });
  const compare = h(
    "button",
    {
      type: "button",
      class: "primary",
      id: "compare",
      onclick: () => (location.hash = `#/compare/${[...selected.keys()].map(encodeURIComponent).join(",")}`),
    },
    t("results.compare"),
  );
  const bar = h(
    "div",
    { class: "compare-bar", role: "region", "aria-label": t("results.compare") },
    count,
    compare,
    h("button", { type: "button", class: "ghost", onclick: () => (selected.clear(), showSelection()) }, t("results.clear")),
  );
  function showSelection() {
    bar.hidden = selected.size === 0;
    count.textContent = t("results.selected", { n: selected.size });
    compare.disabled = selected.size < 2;
    compare.title = selected.size < 2 ? t("results.compare_hint") : "";
    for (const box of grid.querySelectorAll(".task-select")) {
      const id = box.closest(".task-card")?.dataset.task;
      box.checked = selected.has(id);
      box.disabled = !box.checked && selected.size >= MAX_COMPARED;
    }
  }
  const select = {
    isSelected: (id) => selected.has(id),
    toggle: (task, on) => {
      if (on) selected.set(task.id, task);
      else selected.delete(task.id);
      showSelection();
    },
  };
  root.replaceChildren(
    h(
      "section",
      { class: "history" },
      h("h1", {}, t("history.title")),
      h(
        "div",
        { class: "filters", role: "search" },
        h("label", { for: "history-model" }, t("history.model")),
        modelSelect,
        h("label", { for: "history-status" }, t("history.status")),
        statusSelect,
      ),
      problem,
      bar,
      grid,
      h("div", { class: "more" }, more),
    ),
  );

  let cursor = null;
  let generation = 0;
  async function load() {
    const mine = generation;
    more.disabled = true;
    try {
      const page = await api.tasks({
        model: modelSelect.value || undefined,
        status: statusSelect.value || undefined,
        limit: PAGE,
        cursor,
      });
      if (mine !== generation) return;
      problem.hidden = true;
      for (const task of page.tasks) {
        const card = new TaskCard(task, { titleOf, onAgain: runAgain, select });
        if (!isFinal(task) || card.waitingForArchive()) stops.push(card.follow());
        grid.append(card.el);
      }
      if (!grid.childElementCount) grid.append(h("p", { class: "muted" }, t("history.empty")));
      showSelection();
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
    } finally {
      more.disabled = false;
    }
  }
  function reload() {
    filters.model = modelSelect.value;
    filters.status = statusSelect.value;
    while (stops.length) stops.pop()();
    generation += 1;
    cursor = null;
    grid.replaceChildren();
    return load();
  }
  showSelection();
  await load();
}

function groupedOptions(models) {
  const groups = new Map();
  for (const model of models) {
    if (!groups.has(model.category)) groups.set(model.category, []);
    groups.get(model.category).push(model);
  }
  return [...groups.entries()].map(([category, list]) =>
    h(
      "optgroup",
      { label: categoryLabel(category) },
      list.map((model) => h("option", { value: model.id }, pick(model.title))),
    ),
  );
}
