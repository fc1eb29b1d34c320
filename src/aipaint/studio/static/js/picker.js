// The model picker: every catalog model, grouped by category, searchable, with its output type
// and a price hint.

import { h } from "./dom.js";
import { CATEGORY_ORDER, categoryLabel, pick, t } from "./i18n.js";

function priceHint(price) {
  if (!price || price.kind === "unknown") return t("price.unknown");
  const currency = price.currency === "CNY" ? "¥" : `${price.currency || ""} `;
  const unit = pick(price.unit_label);
  const amounts = price.kind === "by_params" ? (price.rules || []).map((rule) => rule.amount) : [price.amount];
  const known = amounts.filter((amount) => typeof amount === "number");
  if (!known.length) return t("price.unknown");
  const low = Math.min(...known);
  const high = Math.max(...known);
  const range = low === high ? `${currency}${low}` : `${currency}${low}–${high}`;
  const from = price.minimum ? `${t("price.from")} ` : "";
  return `${from}${range}${unit ? ` ${unit}` : ""}`;
}

function matches(model, words) {
  const haystack = `${model.id} ${model.title.zh} ${model.title.en}`.toLowerCase();
  return words.every((word) => haystack.includes(word));
}

export function renderPicker(models, { selected, onPick }) {
  const byId = new Map(models.map((model) => [model.id, model]));
  const byCategory = new Map();
  for (const model of models) {
    if (!byCategory.has(model.category)) byCategory.set(model.category, []);
    byCategory.get(model.category).push(model);
  }
  const rank = (category) => {
    const index = CATEGORY_ORDER.indexOf(category);
    return index < 0 ? CATEGORY_ORDER.length : index;
  };
  const categories = [...byCategory.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const count = h("p", { class: "muted small", "aria-live": "polite" });
  const empty = h("p", { class: "muted", hidden: true }, t("picker.none"));
  const groups = categories.map((category) => {
    const buttons = byCategory.get(category).map((model) =>
      h(
        "li",
        { dataset: { model: model.id } },
        h(
          "button",
          {
            type: "button",
            class: "model-option",
            "aria-current": model.id === selected ? "true" : undefined,
            onclick: () => onPick(model.id),
          },
          h("span", { class: "model-title" }, pick(model.title)),
          h(
            "span",
            { class: "model-facts" },
            h("span", { class: `chip output-${model.output_type}` }, model.output_type),
            h("span", { class: "price" }, priceHint(model.price)),
          ),
        ),
      ),
    );
    const list = h("ul", { class: "model-list" }, buttons);
    const group = h(
      "section",
      { class: "model-group", dataset: { category } },
      h("h3", {}, categoryLabel(category), " ", h("span", { class: "muted small" }, String(buttons.length))),
      list,
    );
    return { group, items: buttons };
  });
  const search = h("input", {
    type: "search",
    id: "model-search",
    placeholder: t("picker.search"),
    autocomplete: "off",
    oninput: () => filter(),
  });
  function filter() {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const { group, items } of groups) {
      let inGroup = 0;
      for (const item of items) {
        const model = byId.get(item.dataset.model);
        item.hidden = !matches(model, words);
        if (!item.hidden) inGroup += 1;
      }
      group.hidden = inGroup === 0;
      shown += inGroup;
    }
    count.textContent = t("picker.count", { n: shown });
    empty.hidden = shown > 0;
  }
  filter();
  const element = h(
    "nav",
    { class: "picker", "aria-label": t("picker.title") },
    h("label", { for: "model-search", class: "visually-hidden" }, t("picker.search")),
    search,
    count,
    empty,
    h("div", { class: "model-groups" }, groups.map((g) => g.group)),
  );
  return element;
}
