// The params form of a model, rendered from nothing but its JSON Schema (GET /v1/models/{id}).
//
// What is sent is what the user can see: prompt-like params come first, then the required ones
// and the basic ones; the advanced ones are folded away, and they all start unset (left out of
// the request, RunningHub applies its own default, shown as a placeholder or hint). A section
// holding a set param stays open. Required params start at a value where one makes sense (an
// enum at its default or first choice); free text is never pre-filled: the registry's example is
// offered one click away.

import { h, uid } from "./dom.js";
import { pick, t } from "./i18n.js";
import { WIDGETS } from "./widgets.js";

const FREE_TEXT = new Set(["text", "textarea"]);
const RECENT_KEY = "aipaint.recent_prompts";
const RECENT_MAX = 10;

export function isPromptLike(name, prop) {
  return FREE_TEXT.has(prop["x-widget"] || "text") && /prompt|^text$|lyrics/i.test(name);
}

export function isSeed(name, prop) {
  return /^seed$/i.test(name) && (prop.type === "integer" || prop.type === "number");
}

// The order fields appear in: prompt-like, then the rest of the basic ones (and every required
// one), then the advanced ones. [name, section] pairs.
export function layout(schema) {
  const required = new Set(schema.required || []);
  const order = schema["x-order"] || Object.keys(schema.properties || {});
  const section = (name) => {
    const prop = schema.properties[name];
    if (isPromptLike(name, prop)) return "top";
    if (required.has(name) || prop["x-group"] !== "advanced") return "basic";
    return "advanced";
  };
  return ["top", "basic", "advanced"].flatMap((which) =>
    order.filter((name) => section(name) === which).map((name) => [name, which]),
  );
}

// The value a param starts at: nothing for an optional one; for a required one its default or
// first choice, except free text (the default is an example) and files.
function initial(name, prop, isRequired) {
  if (!isRequired) return undefined;
  if (FREE_TEXT.has(prop["x-widget"] || "text")) return undefined;
  if (prop.enum) return prop.default ?? prop.enum[0];
  if (prop.type === "boolean") return prop.default ?? false;
  return prop.default;
}

export function recentPrompts() {
  try {
    const list = JSON.parse(localStorage.getItem(RECENT_KEY) || "[]");
    return Array.isArray(list) ? list.filter((x) => typeof x === "string") : [];
  } catch {
    return [];
  }
}

function remember(prompt) {
  const list = [prompt, ...recentPrompts().filter((p) => p !== prompt)].slice(0, RECENT_MAX);
  localStorage.setItem(RECENT_KEY, JSON.stringify(list));
}

export function renderForm(model, { onChange = () => {} } = {}) {
  const schema = model.schema;
  const required = new Set(schema.required || []);
  const fields = new Map(); // name -> {field, widget, showError, check, refresh, section}
  const top = h("div", { class: "fields" });
  const basic = h("div", { class: "fields" });
  const advanced = h("div", { class: "fields" });
  const holders = { top, basic, advanced };
  const summaryCount = h("span", { class: "advanced-count muted" });
  const details = h(
    "details",
    { class: "advanced" },
    h("summary", {}, t("form.advanced"), " ", summaryCount),
    advanced,
  );

  const changed = (name) => {
    const entry = fields.get(name);
    if (entry) {
      entry.check();
      entry.refresh();
    }
    refreshAdvanced();
    onChange(name);
  };

  for (const [name, section] of layout(schema)) {
    const prop = schema.properties[name];
    const entry = buildField(model.id, name, prop, required.has(name), changed);
    entry.section = section;
    fields.set(name, entry);
    holders[section].append(entry.field);
  }

  const setInAdvanced = () =>
    [...fields.values()].filter((entry) => entry.section === "advanced" && entry.widget.get() !== undefined);
  function refreshAdvanced() {
    const set = setInAdvanced().length;
    summaryCount.textContent = set ? t("form.advanced_set", { n: set }) : "";
    // A param that will be sent is never folded away: the section opens, and stays open.
    if (set) details.open = true;
  }
  details.addEventListener("toggle", () => {
    if (!details.open && setInAdvanced().length) details.open = true;
  });

  // Models whose params RunningHub does not publish take any JSON object, checked upstream.
  const raw = schema.additionalProperties ? rawParams(onChange) : null;
  const general = h("p", { class: "form-error", role: "alert", hidden: true });
  const element = h(
    "div",
    { class: "model-form" },
    general,
    fields.size === 0 && !raw ? h("p", { class: "muted" }, t("form.none")) : null,
    top,
    basic,
    advanced.childElementCount ? details : null,
    raw ? raw.field : null,
  );
  const seedName = [...fields.keys()].find((name) => fields.get(name).widget.seed) || null;

  const settle = () => {
    for (const entry of fields.values()) {
      entry.check();
      entry.refresh();
    }
    refreshAdvanced();
  };

  const form = {
    element,
    // The params a submit sends: the only function that decides it (copy-as-code uses it too).
    values() {
      const params = raw ? raw.get() ?? {} : {};
      for (const [name, entry] of fields) {
        const value = entry.widget.get();
        if (value !== undefined) params[name] = value;
      }
      return params;
    },
    // What the price estimate is asked with: the params, plus for each required free text not
    // written yet a stand-in (its example, or one character), so that a price shows from the
    // start. Prompts rarely change a price; where one does (per character) the box says so.
    pricing() {
      const params = form.values();
      const standIns = [];
      for (const [name, entry] of fields) {
        const prop = schema.properties[name];
        if (!required.has(name) || params[name] !== undefined || !FREE_TEXT.has(prop["x-widget"] || "text")) continue;
        const example = exampleOf(prop);
        params[name] = typeof example === "string" && example ? example : "·";
        standIns.push(entry.label);
      }
      return { params, standIns };
    },
    setValues(params) {
      for (const [name, entry] of fields) {
        const prop = schema.properties[name];
        entry.widget.set(name in params ? params[name] : initial(name, prop, required.has(name)));
      }
      if (raw) {
        const extra = Object.fromEntries(Object.entries(params).filter(([k]) => !fields.has(k)));
        raw.set(extra);
      }
      settle();
    },
    reset() {
      for (const [name, entry] of fields) {
        entry.widget.set(initial(name, schema.properties[name], required.has(name)));
      }
      if (raw) raw.set({});
      form.clearErrors();
      settle();
    },
    seedParam: seedName,
    seed: seedName ? fields.get(seedName).widget.seed : null,
    // After a submit: its prompt joins the recent ones; an unlocked seed moves on.
    submitted(params) {
      const main = [...fields.keys()].find((name) => fields.get(name).section === "top" && !/negative/i.test(name));
      if (main && typeof params[main] === "string" && params[main].trim()) remember(params[main]);
      if (form.seed) {
        form.seed.advance();
        changed(seedName);
      }
      for (const entry of fields.values()) entry.refreshRecent?.();
    },
    pending: () => [...fields.values()].some((entry) => entry.widget.pending?.()),
    rawError: () => (raw ? raw.error() : null),
    clearErrors() {
      general.hidden = true;
      for (const entry of fields.values()) entry.showError([]);
    },
    // The server's 422 details: each shown next to its field, the rest above the form.
    showErrors(details, fallback) {
      form.clearErrors();
      const byParam = new Map();
      const loose = [];
      for (const detail of details) {
        if (fields.has(detail.param)) {
          byParam.set(detail.param, [...(byParam.get(detail.param) || []), detail.message]);
        } else {
          loose.push(detail.message);
        }
      }
      for (const [name, messages] of byParam) fields.get(name).showError(messages);
      const text = loose.length ? loose.join(" ") : byParam.size ? t("form.fix") : fallback || "";
      general.textContent = text;
      general.hidden = !text;
      const first = byParam.keys().next().value;
      if (first) {
        const entry = fields.get(first);
        entry.field.closest("details")?.setAttribute("open", "");
        entry.field.scrollIntoView({ block: "center", behavior: "smooth" });
      }
    },
  };
  form.reset();
  return form;
}

// The registry's example of a param, if it has one: `examples`, or the console's pre-filled text.
function exampleOf(prop) {
  if (Array.isArray(prop.examples) && prop.examples.length) return prop.examples[0];
  if (FREE_TEXT.has(prop["x-widget"] || "text") && typeof prop.default === "string" && prop.default) return prop.default;
  return undefined;
}

function shortText(value, max = 80) {
  const text = String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

// Problems the form sees as the user types, from the schema alone: range, whole numbers, length.
function localProblems(prop, value) {
  if (value === undefined) return [];
  if (prop.type === "integer" || prop.type === "number") {
    if (typeof value !== "number" || !Number.isFinite(value)) return [t("form.not_number")];
    const problems = [];
    if (prop.type === "integer" && !Number.isInteger(value)) problems.push(t("form.whole"));
    const low = prop.minimum;
    const high = prop.maximum;
    if ((low !== undefined && value < low) || (high !== undefined && value > high)) {
      if (low !== undefined && high !== undefined) problems.push(t("form.range", { min: low, max: high }));
      else if (low !== undefined) problems.push(t("form.min", { min: low }));
      else problems.push(t("form.max", { max: high }));
    }
    return problems;
  }
  if (typeof value === "string" && prop.maxLength && [...value].length > prop.maxLength) {
    return [t("form.too_long", { max: prop.maxLength, n: [...value].length })];
  }
  return [];
}

function buildField(modelId, name, prop, isRequired, changed) {
  const seedField = isSeed(name, prop);
  const widgetName = prop["x-widget"] || "text";
  const builder = seedField ? WIDGETS.seed : WIDGETS[widgetName] || WIDGETS.text;
  const id = uid(`f-${name.replace(/[^\w-]/g, "_")}`);
  const labelId = `${id}-label`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const label = pick(prop["x-label"]) || prop.title || name;
  const example = exampleOf(prop);
  const promptLike = isPromptLike(name, prop);
  const freeText = FREE_TEXT.has(widgetName);
  let placeholder;
  // Free text: a prompt's registry text is an example; an optional setting's is what RunningHub
  // uses when it is left empty.
  if (freeText && !promptLike && !isRequired && typeof prop.default === "string" && prop.default) {
    placeholder = t("form.default_value", { v: shortText(prop.default) });
  } else if (freeText && example !== undefined) {
    placeholder = t("form.example_placeholder", { v: shortText(example) });
  }
  const ctx = {
    id,
    name,
    label,
    labelId,
    model: modelId,
    required: isRequired,
    placeholder,
    describedBy: `${hintId} ${errorId}`,
    changed: () => changed(name),
  };
  const widget = builder(name, prop, ctx);
  const labelled = widgetName === "segmented" ? "span" : "label";
  const title = h(
    labelled,
    { class: "field-label", id: labelId, for: labelled === "label" ? id : undefined },
    label,
    isRequired ? h("span", { class: "required", title: t("form.required") }, " *") : null,
    isRequired ? h("span", { class: "visually-hidden" }, ` (${t("form.required")})`) : null,
  );
  // Offered where it is an example: prompts, required text, and params with schema examples (an
  // optional setting's default needs no button: left empty, it applies).
  const offered = example !== undefined && (promptLike || isRequired || Boolean(prop.examples?.length));
  const useExample =
    offered
      ? h(
          "button",
          {
            type: "button",
            class: "link use-example",
            title: shortText(example, 300),
            onclick: () => {
              widget.set(example);
              changed(name);
            },
          },
          t("form.use_example"),
        )
      : null;
  // An optional param that is set can go back to unset (RunningHub's default) in one click.
  const clear = isRequired
    ? null
    : h(
        "button",
        {
          type: "button",
          class: "link clear-value",
          hidden: true,
          onclick: () => {
            widget.set(undefined);
            changed(name);
          },
        },
        t("form.clear"),
      );
  // What RunningHub uses when an optional param is left unset (free text: see its placeholder).
  let defaultNote = null;
  if (!isRequired && !freeText && !seedField && prop.default !== undefined) {
    const shown =
      prop.type === "boolean"
        ? t(prop.default ? "form.on" : "form.off")
        : prop.enum
          ? pick(prop["x-enum-labels"]?.[prop.default]) || prop.default
          : prop.default;
    defaultNote = h("span", { class: "default-note" }, t("form.unset_default", { v: shown }));
  }
  const description = pick(prop["x-description"]);
  const error = h("p", { class: "field-error", id: errorId, role: "alert", hidden: true });
  const recent = promptLike && !/negative/i.test(name) ? recentList(widget, () => changed(name)) : null;
  const field = h(
    "div",
    {
      class: `field widget-${widgetName}`,
      dataset: { param: name, widget: widgetName, ...(seedField ? { kind: "seed" } : promptLike ? { kind: "prompt" } : {}) },
    },
    h(
      "div",
      { class: "field-head" },
      title,
      h("span", { class: "field-tools" }, useExample, clear, h("code", { class: "param-name" }, name)),
    ),
    widget.control,
    recent ? recent.element : null,
    h("p", { class: "hint", id: hintId }, description, defaultNote),
    error,
  );
  const entry = {
    field,
    widget,
    label,
    showError(messages) {
      error.textContent = messages.join(" ");
      error.hidden = messages.length === 0;
      field.classList.toggle("invalid", messages.length > 0);
    },
    check() {
      entry.showError(localProblems(prop, widget.get()));
    },
    refresh() {
      const set = widget.get() !== undefined;
      if (clear) clear.hidden = !set;
      field.classList.toggle("is-set", set);
    },
    refreshRecent: recent ? recent.render : undefined,
  };
  return entry;
}

// The last prompts submitted from this browser, offered under the prompt field.
function recentList(widget, changed) {
  const list = h("ul", { class: "recent-list" });
  const element = h("details", { class: "recent" }, h("summary", { class: "muted small" }, t("form.recent")), list);
  function render() {
    const prompts = recentPrompts();
    element.hidden = prompts.length === 0;
    list.replaceChildren(
      ...prompts.map((prompt) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "link recent-prompt",
              title: prompt,
              onclick: () => {
                widget.set(prompt);
                element.open = false;
                changed();
              },
            },
            shortText(prompt, 120),
          ),
        ),
      ),
    );
  }
  render();
  return { element, render };
}

function rawParams(onChange) {
  const id = uid("raw");
  const area = h("textarea", { id, rows: 6, spellcheck: false, class: "mono", oninput: () => onChange("") });
  const problem = h("p", { class: "field-error", role: "alert", hidden: true });
  const parse = () => {
    const text = area.value.trim();
    if (!text) return {};
    try {
      const value = JSON.parse(text);
      return value && typeof value === "object" && !Array.isArray(value) ? value : null;
    } catch {
      return null;
    }
  };
  return {
    field: h(
      "div",
      { class: "field raw-params" },
      h("label", { for: id, class: "field-label" }, t("form.raw")),
      area,
      h("p", { class: "hint" }, t("form.raw_help")),
      problem,
    ),
    get: () => {
      const value = parse();
      return value ? { ...value } : undefined;
    },
    set: (value) => {
      area.value = value && Object.keys(value).length ? JSON.stringify(value, null, 2) : "";
    },
    error: () => {
      const bad = parse() === null;
      problem.textContent = bad ? t("form.raw_invalid") : "";
      problem.hidden = !bad;
      return bad ? t("form.raw_invalid") : null;
    },
  };
}
