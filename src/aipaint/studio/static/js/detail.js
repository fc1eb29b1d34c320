// A task in full (#/task/<id>): every param, every output with its download and share link, its
// status or error, and its webhook deliveries. And tasks side by side (#/compare/<id>,<id>,…):
// their outputs over their params, the params that differ marked.

import { api } from "./api.js";
import { h } from "./dom.js";
import { formatSeconds, pick, t } from "./i18n.js";
import { costView, durationSeconds, exactTime, promptLine, whenView } from "./results.js";
import { deliveries, errorBox, followTask, isFinal, outputs } from "./tasks.js";

export const MAX_COMPARED = 6;

// Param labels of a model from its catalog page, in the current language; none if it is gone.
const models = new Map();
async function paramLabels(modelId) {
  if (!models.has(modelId)) models.set(modelId, api.model(modelId).catch(() => null));
  const model = await models.get(modelId);
  const properties = model?.schema?.properties || {};
  return new Map(Object.entries(properties).map(([name, prop]) => [name, pick(prop["x-label"]) || prop.title || ""]));
}

function paramName(key, labels) {
  const label = labels.get(key);
  return label && label !== key
    ? [h("span", { class: "param-label" }, label), " ", h("code", { class: "param-key" }, key)]
    : h("code", { class: "param-key" }, key);
}

function paramValue(value) {
  if (value === undefined) return h("span", { class: "muted" }, "—");
  if (value !== null && typeof value === "object") return h("pre", { class: "param-json" }, JSON.stringify(value, null, 2));
  return h("span", { class: "param-text" }, String(value));
}

function statusBadge(task) {
  return h("span", { class: `badge ${task.status}`, dataset: { status: task.status } }, t(`status.${task.status}`));
}

function durationText(task) {
  const seconds = formatSeconds(durationSeconds(task));
  return isFinal(task) ? t("tasks.took", { t: seconds }) : t("tasks.elapsed", { t: seconds });
}

function backLink() {
  return h("a", { class: "back", href: "#/history" }, `← ${t("nav.history")}`);
}

export async function taskView(root, { id, titleOf, runAgain }) {
  const mine = {};
  root.dataset.view = "task";
  root.viewToken = mine;
  let task;
  try {
    task = await api.task(id);
  } catch (error) {
    root.replaceChildren(backLink(), h("p", { class: "form-error", role: "alert" }, error.message));
    return;
  }
  const labels = await paramLabels(task.model);
  if (root.viewToken !== mine) return;
  const show = () => {
    const title = titleOf(task.model);
    const prompt = promptLine(task.params);
    const facts = [
      [t("results.created"), h("span", {}, whenView(task), " · ", exactTime(task.created_at))],
      task.submitted_at ? [t("results.submitted"), exactTime(task.submitted_at)] : null,
      task.finished_at ? [t("results.finished"), exactTime(task.finished_at)] : null,
      [t("results.duration"), h("span", { class: "clock" }, durationText(task))],
      [t("results.cost"), costView(task)],
      [t("history.model"), h("span", {}, title, " ", h("code", {}, task.model))],
    ].filter(Boolean);
    const keys = Object.keys(task.params || {});
    root.replaceChildren(
      h(
        "article",
        { class: "task-detail", dataset: { task: task.id } },
        backLink(),
        h(
          "header",
          { class: "detail-head" },
          h("h1", {}, title),
          statusBadge(task),
          h("code", { class: "task-id" }, task.id),
        ),
        prompt ? h("p", { class: "task-prompt lead" }, prompt) : null,
        h(
          "dl",
          { class: "detail-facts" },
          facts.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]),
        ),
        task.error ? errorBox(task.error) : null,
        h(
          "section",
          { class: "detail-outputs" },
          h("h2", {}, t("results.outputs")),
          task.status === "succeeded"
            ? outputs(task)
            : h("p", { class: "muted" }, isFinal(task) ? t("tasks.no_outputs") : t(`status.${task.status}`)),
        ),
        h(
          "section",
          { class: "detail-params" },
          h("h2", {}, t("results.params")),
          keys.length
            ? h(
                "table",
                { class: "params-table" },
                h(
                  "tbody",
                  {},
                  keys.map((key) =>
                    h("tr", { dataset: { param: key } }, h("th", { scope: "row" }, paramName(key, labels)), h("td", {}, paramValue(task.params[key]))),
                  ),
                ),
              )
            : h("p", { class: "muted" }, t("form.none")),
        ),
        h(
          "section",
          { class: "detail-deliveries" },
          h("h2", {}, t("webhooks.title")),
          task.webhook_url
            ? [h("p", { class: "muted small webhook-url" }, task.webhook_url), deliveries(task, { open: true })]
            : h("p", { class: "muted" }, t("results.no_webhook")),
        ),
        h(
          "div",
          { class: "task-actions" },
          runAgain ? h("button", { type: "button", class: "ghost", onclick: () => runAgain(task) }, t("tasks.again")) : null,
        ),
      ),
    );
    document.title = `${title} · ${task.id} · aipaint studio`;
  };
  show();
  // A task still running (or whose files are still being archived) is followed as its card is,
  // until another view takes the page.
  const control = new AbortController();
  root.stopView = () => control.abort();
  const shown = () => root.viewToken === mine;
  followTask(task, (next) => {
    task = next;
    if (shown()) show();
  }, control.signal, shown);
}

function same(values) {
  const shown = values.map((value) => JSON.stringify(value === undefined ? null : value));
  return shown.every((value) => value === shown[0]);
}

export async function compareView(root, { ids, titleOf }) {
  const mine = {};
  root.dataset.view = "compare";
  root.viewToken = mine;
  const wanted = [...new Set(ids)].slice(0, MAX_COMPARED);
  let tasks;
  try {
    tasks = await Promise.all(wanted.map((id) => api.task(id)));
  } catch (error) {
    root.replaceChildren(backLink(), h("p", { class: "form-error", role: "alert" }, error.message));
    return;
  }
  const labelMaps = await Promise.all([...new Set(tasks.map((task) => task.model))].map((model) => paramLabels(model)));
  const labels = new Map(labelMaps.flatMap((map) => [...map]));
  if (root.viewToken !== mine) return;
  const keys = [];
  for (const task of tasks) {
    for (const key of Object.keys(task.params || {})) if (!keys.includes(key)) keys.push(key);
  }
  const row = (name, cells, attrs = {}) => h("tr", attrs, h("th", { scope: "row" }, name), cells.map((cell) => h("td", {}, cell)));
  const differing = keys.filter((key) => !same(tasks.map((task) => task.params?.[key])));
  const modelsDiffer = !same(tasks.map((task) => task.model));
  root.replaceChildren(
    h(
      "section",
      { class: "compare" },
      backLink(),
      h("h1", {}, t("results.compare_title", { n: tasks.length })),
      h(
        "p",
        { class: "muted" },
        differing.length ? t("results.differs_count", { n: differing.length }) : t("results.differs_none"),
      ),
      h(
        "div",
        { class: "compare-scroll" },
        h(
          "table",
          { class: "compare-table" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("td", {}),
              tasks.map((task) =>
                h(
                  "th",
                  { scope: "col", dataset: { task: task.id } },
                  h("a", { href: `#/task/${encodeURIComponent(task.id)}`, class: "compare-title" }, titleOf(task.model)),
                  " ",
                  statusBadge(task),
                  h("div", {}, h("code", {}, task.id)),
                ),
              ),
            ),
          ),
          h(
            "tbody",
            {},
            row(
              t("results.outputs"),
              tasks.map((task) =>
                task.status === "succeeded" ? outputs(task) : task.error ? errorBox(task.error) : h("span", { class: "muted" }, t(`status.${task.status}`)),
              ),
              { class: "compare-outputs" },
            ),
            row(
              t("history.model"),
              tasks.map((task) => h("code", {}, task.model)),
              { class: modelsDiffer ? "differs" : "", dataset: { field: "model", differs: String(modelsDiffer) } },
            ),
            row(t("results.when"), tasks.map((task) => whenView(task)), { dataset: { field: "when" } }),
            row(t("results.duration"), tasks.map((task) => durationText(task)), { dataset: { field: "duration" } }),
            row(t("results.cost"), tasks.map((task) => costView(task)), { dataset: { field: "cost" } }),
            keys.map((key) => {
              const differs = differing.includes(key);
              return row(
                [paramName(key, labels), differs ? h("span", { class: "differs-mark" }, t("results.differs")) : null],
                tasks.map((task) => paramValue(task.params?.[key])),
                { class: differs ? "differs" : "", dataset: { param: key, differs: String(differs) } },
              );
            }),
          ),
        ),
      ),
    ),
  );
  // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
  root.querySelector(".compare-table").style.setProperty("--columns", String(tasks.length));
  document.title = `${t("results.compare")} · aipaint studio`;
}
