// The params form of a model, rendered from nothing but its JSON Schema (GET /v1/models/{id}):
// one field per property, in `x-order`, basic ones first and the advanced ones folded away.

import { h, uid } from "./dom.js";
import { pick, t } from "./i18n.js";
import { WIDGETS } from "./widgets.js";

export function renderForm(model, { onChange = () => {} } = {}) {
  const schema = model.schema;
  const required = new Set(schema.required || []);
  const order = schema["x-order"] || Object.keys(schema.properties || {});
  const fields = new Map(); // name -> {field, widget, error}
  const basic = h("div", { class: "fields" });
  const advanced = h("div", { class: "fields" });

  for (const name of order) {
    const prop = schema.properties[name];
    const entry = buildField(model.id, name, prop, required.has(name), onChange);
    fields.set(name, entry);
    (prop["x-group"] === "advanced" ? advanced : basic).append(entry.field);
  }

  // Models whose params RunningHub does not publish take any JSON object, checked upstream.
  const raw = schema.additionalProperties ? rawParams(onChange) : null;
  const general = h("p", { class: "form-error", role: "alert", hidden: true });
  const element = h(
    "div",
    { class: "model-form" },
    general,
    fields.size === 0 && !raw ? h("p", { class: "muted" }, t("form.none")) : null,
    basic,
    advanced.childElementCount
      ? h("details", { class: "advanced" }, h("summary", {}, t("form.advanced")), advanced)
      : null,
    raw ? raw.field : null,
  );

  const form = {
    element,
    values() {
      const params = raw ? raw.get() ?? {} : {};
      for (const [name, entry] of fields) {
        const value = entry.widget.get();
        if (value !== undefined) params[name] = value;
      }
      return params;
    },
    setValues(params) {
      for (const [name, entry] of fields) entry.widget.set(params[name]);
      if (raw) {
        const extra = Object.fromEntries(Object.entries(params).filter(([k]) => !fields.has(k)));
        raw.set(extra);
      }
    },
    reset() {
      for (const [name, entry] of fields) entry.widget.set(schema.properties[name].default);
      if (raw) raw.set({});
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

function buildField(modelId, name, prop, isRequired, onChange) {
  const widgetName = prop["x-widget"] || "text";
  const id = uid(`f-${name.replace(/[^\w-]/g, "_")}`);
  const labelId = `${id}-label`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const label = pick(prop["x-label"]) || prop.title || name;
  const ctx = {
    id,
    name,
    label,
    labelId,
    model: modelId,
    required: isRequired,
    describedBy: `${hintId} ${errorId}`,
    changed: () => onChange(name),
  };
  const widget = (WIDGETS[widgetName] || WIDGETS.text)(name, prop, ctx);
  const labelled = widgetName === "segmented" ? "span" : "label";
  const title = h(
    labelled,
    { class: "field-label", id: labelId, for: labelled === "label" ? id : undefined },
    label,
    isRequired ? h("span", { class: "required", title: t("form.required") }, " *") : null,
    isRequired ? h("span", { class: "visually-hidden" }, ` (${t("form.required")})`) : null,
  );
  const description = pick(prop["x-description"]);
  const error = h("p", { class: "field-error", id: errorId, role: "alert", hidden: true });
  const field = h(
    "div",
    { class: `field widget-${widgetName}`, dataset: { param: name, widget: widgetName } },
    h("div", { class: "field-head" }, title, h("code", { class: "param-name" }, name)),
    widget.control,
    h("p", { class: "hint", id: hintId }, description),
    error,
  );
  return {
    field,
    widget,
    showError(messages) {
      error.textContent = messages.join(" ");
      error.hidden = messages.length === 0;
      field.classList.toggle("invalid", messages.length > 0);
    },
  };
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
