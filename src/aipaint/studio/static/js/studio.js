// The studio screen: model picker, the chosen model's form with its live price estimate, and the
// tasks submitted from here, updating live.

import { ApiError, api } from "./api.js";
import { codePanel } from "./code.js";
import { debounce, h } from "./dom.js";
import { renderForm } from "./form.js";
import { categoryLabel, pick, t } from "./i18n.js";
import { renderPicker, typeLabel } from "./picker.js";
import { TaskCard } from "./tasks.js";

const ESTIMATE_DELAY_MS = 300;
const RECENT_TASKS = 8;
const MAX_SHOWN = 20;
const MAX_VARIATIONS = 8;

// What survives re-rendering (a language switch, a new model): the live tasks and their streams.
const live = { tasks: [], stops: new Map(), loaded: false };

export async function studioView(root, { catalog, modelId, prefill, titleOf, runAgain }) {
  const models = catalog.models;
  const chosen = modelId && models.some((m) => m.id === modelId) ? modelId : defaultModel(models);
  const picker = renderPicker(models, {
    selected: chosen,
    explicit: Boolean(modelId),
    onPick: (id) => (location.hash = `#/m/${id}`),
  });
  const formPane = h("section", { class: "form-pane" }, h("p", { class: "loading" }, "…"));
  const taskList = h("div", { class: "task-list" });
  const tasksPane = h(
    "aside",
    { class: "tasks-pane", "aria-label": t("tasks.live") },
    h("h2", {}, t("tasks.live")),
    taskList,
  );
  const pickerPane = h("aside", { class: "picker-pane" }, picker.element);
  root.replaceChildren(h("div", { class: "studio" }, pickerPane, formPane, tasksPane));
  picker.reveal();

  const showTasks = () => {
    taskList.replaceChildren(
      ...(live.tasks.length ? live.tasks.map((task) => card(task).el) : [h("p", { class: "muted" }, t("tasks.empty"))]),
    );
  };
  const card = (task) => {
    const taskCard = new TaskCard(task, {
      titleOf,
      onAgain: runAgain,
      onChange: (updated) => {
        const index = live.tasks.findIndex((x) => x.id === updated.id);
        if (index >= 0) live.tasks[index] = updated;
      },
    });
    live.stops.get(task.id)?.();
    live.stops.set(task.id, taskCard.follow());
    return taskCard;
  };
  const addTask = (task) => {
    live.tasks = [task, ...live.tasks.filter((x) => x.id !== task.id)].slice(0, MAX_SHOWN);
    taskList.querySelector(":scope > .muted")?.remove();
    taskList.prepend(card(task).el);
    // A card taken off the page stops following its task (see tasks.js); history keeps it.
    while (taskList.childElementCount > MAX_SHOWN) taskList.lastElementChild.remove();
  };
  if (!live.loaded) {
    live.loaded = true;
    try {
      live.tasks = (await api.tasks({ limit: RECENT_TASKS })).tasks;
    } catch {
      live.tasks = [];
    }
  }
  showTasks();

  let model;
  try {
    model = await api.model(chosen);
  } catch (error) {
    formPane.replaceChildren(h("p", { class: "form-error", role: "alert" }, error.message));
    return {};
  }
  const estimate = estimateBox(model);
  let code = null;
  const form = renderForm(model, {
    onChange: () => {
      estimate.update(form);
      code?.update();
    },
  });
  if (prefill && prefill.model === model.id) form.setValues(prefill.params);
  code = codePanel(model.id, () => form.values());
  const submit = h("button", { type: "submit", class: "primary" }, t("form.submit"));
  // × N: N tasks in one click, each with its own random seed where the model takes one.
  const variationsNote = h("p", { class: "muted small variations-note", hidden: true });
  const variations = h(
    "select",
    {
      class: "variations",
      "aria-label": t("form.variations"),
      title: t("form.variations"),
      onchange: () => {
        const n = count();
        submit.textContent = n > 1 ? t("form.submit_n", { n }) : t("form.submit");
        variationsNote.textContent = n > 1 ? t(form.seedParam ? "form.variations_seed" : "form.variations_noseed", { n }) : "";
        variationsNote.hidden = n === 1;
        estimate.times(n);
      },
    },
    Array.from({ length: MAX_VARIATIONS }, (_, i) => h("option", { value: String(i + 1) }, `× ${i + 1}`)),
  );
  const count = () => Number(variations.value) || 1;
  const label = () => (count() > 1 ? t("form.submit_n", { n: count() }) : t("form.submit"));
  let retryKeys = null; // kept when a submit may not have arrived: the retry must not run twice
  const element = h(
    "form",
    {
      class: "model-card",
      novalidate: true,
      onkeydown: (event) => {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.isComposing) {
          event.preventDefault();
          if (!submit.disabled) element.requestSubmit(submit);
        }
      },
      onsubmit: async (event) => {
        event.preventDefault();
        if (form.pending()) {
          form.showErrors([], t("form.uploading"));
          return;
        }
        if (form.rawError()) return;
        form.clearErrors();
        submit.disabled = true;
        submit.textContent = t("form.submitting");
        const params = form.values();
        const runs = variationParams(params, count(), form);
        const keys = retryKeys && retryKeys.length === runs.length ? retryKeys : runs.map(() => idempotencyKey());
        retryKeys = keys;
        let done = 0;
        try {
          for (const [index, run] of runs.entries()) {
            const task = await api.submit(model.id, run, keys[index]);
            done += 1;
            addTask(task);
          }
          retryKeys = null;
          form.submitted(params);
        } catch (error) {
          // A retry resubmits with the same keys: the tasks already created come back as they are.
          if (!(error instanceof ApiError) || error.status !== 0) retryKeys = null;
          if (error.status === 422) form.showErrors(error.details);
          else form.showErrors([], error.status === 0 ? t("error.network") : error.message);
          if (done && retryKeys === null) form.submitted(params);
        } finally {
          submit.disabled = false;
          submit.textContent = label();
        }
      },
    },
    h(
      "header",
      { class: "model-head" },
      h("h1", {}, pick(model.title)),
      h(
        "p",
        { class: "model-sub" },
        h("code", {}, model.id),
        h("span", { class: "chip" }, categoryLabel(model.category)),
        h("span", { class: `chip output-${model.output_type}` }, typeLabel(model.output_type)),
      ),
    ),
    form.element,
    h(
      "div",
      { class: "form-foot" },
      estimate.element,
      h(
        "div",
        { class: "form-buttons" },
        h(
          "button",
          { type: "button", class: "ghost", onclick: () => (form.reset(), estimate.update(form), code.update()) },
          t("form.reset"),
        ),
        variations,
        submit,
      ),
    ),
    variationsNote,
    h("p", { class: "muted small shortcut-hint" }, t("form.shortcut")),
    code.element,
  );
  formPane.replaceChildren(element);
  estimate.update(form);
  document.title = `${pick(model.title)} · aipaint studio`;
  return { form, model };
}

function defaultModel(models) {
  const first = models.find((m) => m.category === "text-to-image" && !m.deprecated);
  return (first || models[0]).id;
}

// The params of each of N runs: with a seed param, N different seeds (the form's own first, if
// set); without one, N times the same params.
function variationParams(params, n, form) {
  if (n === 1 || !form.seedParam) return Array.from({ length: n }, () => params);
  const seeds = new Set();
  if (params[form.seedParam] !== undefined) seeds.add(params[form.seedParam]);
  while (seeds.size < n) seeds.add(form.seed.random());
  return [...seeds].map((seed) => ({ ...params, [form.seedParam]: seed }));
}

function idempotencyKey() {
  // crypto.randomUUID needs a secure context; the studio may be served over plain http on a LAN.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `studio-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function estimateBox(model) {
  const value = h("strong", { class: "estimate-value" }, "—");
  const detail = h("span", { class: "estimate-detail muted small" });
  const element = h(
    "div",
    { class: "estimate", "aria-live": "polite", dataset: { state: "idle" } },
    h("span", { class: "estimate-label" }, t("estimate.title")),
    value,
    detail,
  );
  let inflight = null;
  let times = 1;
  let standIns = []; // required text not written yet, priced with its example
  let last = null; // the last answer, shown again when N changes
  const show = (state, main, extra = "") => {
    element.dataset.state = state;
    value.textContent = main;
    detail.textContent = extra;
  };
  const render = () => {
    const answer = last;
    if (!answer) return;
    if (!answer.known) {
      show("unknown", t("estimate.unknown"), pick(answer.note));
      return;
    }
    const currency = answer.currency === "CNY" ? "¥" : `${answer.currency} `;
    const amount = answer.total ?? answer.unit_price;
    const notes = [];
    if (times > 1) notes.push(t("estimate.times", { n: times, p: `${currency}${amount}` }));
    if (answer.total === null) notes.push(t("estimate.per", { p: `${currency}${answer.unit_price}` }));
    if (answer.minimum) notes.push(t("estimate.starting"));
    if (answer.assumed.length) notes.push(t("estimate.assumed", { names: answer.assumed.join(", ") }));
    if (answer.note) notes.push(pick(answer.note));
    if (standIns.length) notes.push(t("estimate.stand_in", { names: standIns.join(", ") }));
    const shown = multiply(amount, times);
    show("known", `${answer.minimum ? `${t("price.from")} ` : ""}${currency}${shown}`, notes.join(" · "));
  };
  const run = debounce(async (params) => {
    inflight?.abort();
    const control = new AbortController();
    inflight = control;
    try {
      const answer = await api.estimate(model.id, params, control.signal);
      if (control.signal.aborted) return;
      last = answer;
      render();
    } catch (error) {
      if (error.name === "AbortError") return;
      last = null;
      if (error.status === 422) show("incomplete", "—", t("estimate.incomplete"));
      else show("error", "—", error.message);
    }
  }, ESTIMATE_DELAY_MS);
  return {
    element,
    times(n) {
      times = n;
      element.dataset.times = String(n);
      render();
    },
    update(form) {
      element.dataset.state = "waiting";
      detail.textContent = t("estimate.wait");
      const priced = form.pricing();
      standIns = priced.standIns;
      run(priced.params);
    },
  };
}

// A decimal amount (a string from the API) times n, keeping its decimals: "0.35" × 3 = "1.05".
function multiply(amount, n) {
  if (n === 1) return amount;
  const text = String(amount);
  const decimals = (text.split(".")[1] || "").length;
  const scale = 10 ** decimals;
  return (Math.round(Number(text) * scale) * n / scale).toFixed(decimals);
}
