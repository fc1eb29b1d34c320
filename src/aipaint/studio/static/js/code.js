// Copy as code: the current form as a curl command, a Python script (aipaint.Client) and an
// `aipaint run` command. Each is built from the very params a submit sends (form.values()), with
// this server's base URL; the token is never written out, only read from $AIPAINT_TOKEN.

import { h } from "./dom.js";
import { t } from "./i18n.js";

const LANGS = [
  ["curl", "curl"],
  ["python", "Python"],
  ["cli", "aipaint run"],
];

// A word for bash, in single quotes: nothing inside is expanded.
export function shellQuote(text) {
  return `'${String(text).replace(/'/g, `'\\''`)}'`;
}

export function curlSnippet(base, model, params) {
  const body = JSON.stringify({ model, params });
  return [
    `curl -sS --fail-with-body -X POST ${shellQuote(`${base}/v1/tasks`)} \\`,
    `  -H "Authorization: Bearer $AIPAINT_TOKEN" \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  --data-raw ${shellQuote(body)}`,
  ].join("\n");
}

// A JSON value as a Python literal (a JSON string is a valid Python string literal).
function py(value, indent = "") {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number" || typeof value === "string") return JSON.stringify(value);
  const inner = `${indent}    `;
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    return `[\n${value.map((item) => `${inner}${py(item, inner)},`).join("\n")}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (!entries.length) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${py(v, inner)},`).join("\n")}\n${indent}}`;
}

export function pythonSnippet(base, model, params) {
  return [
    "from aipaint import Client",
    "",
    `params = ${py(params)}`,
    "",
    "# The token comes from the AIPAINT_TOKEN environment variable.",
    `with Client(${JSON.stringify(base)}) as client:`,
    `    task = client.run(${JSON.stringify(model)}, params)`,
    '    print(task["id"], task["status"])',
    '    for path in client.download_outputs(task, "outputs"):',
    "        print(path)",
  ].join("\n");
}

// `-p key=value`, typed by the model's schema on the CLI's side: strings as they are, numbers
// and booleans as written, lists and objects as JSON.
export function cliSnippet(base, model, params) {
  const lines = [`AIPAINT_SERVER=${shellQuote(base)} aipaint run ${shellQuote(model)}`];
  for (const [key, value] of Object.entries(params)) {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    lines.push(`  -p ${shellQuote(`${key}=${text}`)}`);
  }
  return lines.join(" \\\n");
}

const BUILDERS = { curl: curlSnippet, python: pythonSnippet, cli: cliSnippet };

// The panel: a tab per language, a Copy button, the snippets kept up to date with the form.
export function codePanel(modelId, values) {
  let current = "curl";
  const pres = Object.fromEntries(
    LANGS.map(([key]) => [key, h("pre", { class: "code-snippet", dataset: { snippet: key }, hidden: key !== current, tabindex: 0 })]),
  );
  const tabs = LANGS.map(([key, label]) =>
    h(
      "button",
      {
        type: "button",
        class: "ghost code-tab",
        "aria-pressed": String(key === current),
        dataset: { lang: key },
        onclick: () => show(key),
      },
      label,
    ),
  );
  const status = h("span", { class: "muted small code-status", role: "status" });
  const copy = h("button", { type: "button", class: "ghost code-copy", onclick: () => copyText(pres[current].textContent) }, t("code.copy"));
  function show(key) {
    current = key;
    for (const [name, pre] of Object.entries(pres)) pre.hidden = name !== key;
    for (const tab of tabs) tab.setAttribute("aria-pressed", String(tab.dataset.lang === key));
  }
  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard API outside a secure context: select the text and copy the old way.
      const range = document.createRange();
      range.selectNodeContents(pres[current]);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      document.execCommand("copy");
    }
    status.textContent = t("code.copied");
    setTimeout(() => (status.textContent = ""), 1500);
  }
  const element = h(
    "details",
    { class: "code-panel" },
    h("summary", {}, t("code.title")),
    h("div", { class: "code-tools" }, ...tabs, copy, status),
    ...Object.values(pres),
    h("p", { class: "muted small" }, t("code.token")),
  );
  const update = () => {
    const params = values();
    for (const [key, pre] of Object.entries(pres)) pre.textContent = BUILDERS[key](location.origin, modelId, params);
  };
  update();
  return { element, update };
}
