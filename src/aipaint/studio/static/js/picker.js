// The model picker: some 300 catalog models, found with a search and with output-type and category
// chips whose counts follow the other filters; favourites and recent picks come first, deprecated
// models only when asked for. The list is one tab stop (a roving tabindex): from the search box the
// arrow keys move through it and Enter opens the highlighted model.

import { clear, h, uid } from "./dom.js";
import { CATEGORY_ORDER, categoryLabel, pick, t } from "./i18n.js";

const RECENT_KEY = "aipaint.picker.recent";
const FAVOURITES_KEY = "aipaint.picker.favourites";
const VIEW_KEY = "aipaint.picker.view";
const RECENT_MAX = 8;
const PAGE_STEP = 10;
const TYPE_ORDER = ["image", "video", "audio", "3d", "text"];
const PHONE = "(max-width: 720px)";

// What the user set up outlives a re-render (a pick, a language switch, a route change) and, for the
// browser tab's session, a reload.
const view = {
  search: "",
  type: "",
  category: "",
  deprecated: false,
  categoriesOpen: false,
  collapsed: true, // phone only: the picker folds away under a button naming the current model
  ...readJSON(sessionStorage, VIEW_KEY, {}),
};
// Not kept across reloads: where the list was scrolled, where in it the picked model's row was, and
// what had the focus when a model was picked.
const place = { scroll: 0, anchor: null, refocus: null };

function readJSON(storage, key, fallback) {
  try {
    const value = JSON.parse(storage.getItem(key));
    return value && typeof value === "object" ? value : fallback;
  } catch {
    return fallback;
  }
}

function saveView() {
  const { search, type, category, deprecated, categoriesOpen, collapsed } = view;
  sessionStorage.setItem(VIEW_KEY, JSON.stringify({ search, type, category, deprecated, categoriesOpen, collapsed }));
}

function storedIds(key) {
  const value = readJSON(localStorage, key, []);
  return Array.isArray(value) ? value.filter((id) => typeof id === "string") : [];
}

function rememberPick(id) {
  const recent = [id, ...storedIds(RECENT_KEY).filter((x) => x !== id)].slice(0, RECENT_MAX);
  localStorage.setItem(RECENT_KEY, JSON.stringify(recent));
}

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

export function typeLabel(type) {
  return TYPE_ORDER.includes(type) ? t(`picker.type.${type}`) : type;
}

function ranked(order) {
  return (a, b) => {
    const rank = (x) => (order.includes(x) ? order.indexOf(x) : order.length);
    return rank(a) - rank(b) || a.localeCompare(b);
  };
}

// A row of buttons that is one tab stop: the arrow keys, Home and End move along it.
function roving(container, selector, { vertical = true } = {}) {
  const items = () => [...container.querySelectorAll(selector)].filter((el) => el.getClientRects().length);
  container.addEventListener("keydown", (event) => {
    const all = items();
    const index = all.indexOf(document.activeElement);
    if (index < 0 || event.altKey || event.ctrlKey || event.metaKey) return;
    const next = {
      ArrowRight: all[(index + 1) % all.length],
      ArrowLeft: all[(index - 1 + all.length) % all.length],
      ArrowDown: vertical ? all[(index + 1) % all.length] : undefined,
      ArrowUp: vertical ? all[(index - 1 + all.length) % all.length] : undefined,
      Home: all[0],
      End: all[all.length - 1],
    }[event.key];
    if (!next) return;
    event.preventDefault();
    next.focus();
  });
  container.addEventListener("focusin", (event) => {
    if (event.target.matches(selector)) tabStop(container, selector, event.target);
  });
}

function tabStop(container, selector, chosen) {
  const all = [...container.querySelectorAll(selector)];
  const shown = all.filter((el) => !el.hidden);
  const stop = chosen || shown.find((el) => el.getAttribute("aria-pressed") === "true") || shown[0];
  for (const el of all) el.tabIndex = el === stop ? 0 : -1;
}

function filterChip(label, data, onclick) {
  const count = h("span", { class: "n" });
  const button = h(
    "button",
    { type: "button", class: "filter-chip", tabindex: "-1", dataset: data, onclick },
    h("span", { class: "label" }, label),
    count,
  );
  return { button, count };
}

export function renderPicker(models, { selected, explicit = false, onPick }) {
  const byId = new Map(models.map((model) => [model.id, model]));
  const favourites = new Set(storedIds(FAVOURITES_KEY).filter((id) => byId.has(id)));
  const haystacks = new Map(models.map((m) => [m.id, `${m.id} ${m.title.zh} ${m.title.en}`.toLowerCase()]));
  const types = [...new Set(models.map((m) => m.output_type))].sort(ranked(TYPE_ORDER));
  const categories = [...new Set(models.map((m) => m.category))].sort(ranked(CATEGORY_ORDER));
  const deprecatedInCatalog = models.some((m) => m.deprecated);
  if (view.type && !types.includes(view.type)) view.type = "";
  if (view.category && !categories.includes(view.category)) view.category = "";
  let active = null; // the row the keyboard is on: the list's tab stop, Enter's choice from the search

  const words = () => view.search.toLowerCase().split(/\s+/).filter(Boolean);
  const passes = (model, found, skip = "") =>
    found.every((word) => haystacks.get(model.id).includes(word)) &&
    (skip === "type" || !view.type || model.output_type === view.type) &&
    (skip === "category" || !view.category || model.category === view.category) &&
    (skip === "deprecated" || view.deprecated || !model.deprecated);

  // A deep link to a model the filters hide: clear just the filters that hide it.
  const current = byId.get(selected);
  if (explicit && current && !passes(current, words())) {
    if (!words().every((word) => haystacks.get(current.id).includes(word))) view.search = "";
    if (view.type && current.output_type !== view.type) view.type = "";
    if (view.category && current.category !== view.category) view.category = "";
    if (current.deprecated) view.deprecated = true;
  }

  // One row per model in its category, made once and moved as the filters change; favourites and
  // recent picks are shortcuts to them at the top, made afresh.
  const makeRow = (model, canonical) => {
    const title = pick(model.title);
    const option = h(
      "button",
      {
        type: "button",
        class: "model-option",
        id: uid("model-option"),
        tabindex: "-1",
        "aria-current": model.id === selected ? "true" : undefined,
        onclick: () => choose(model.id, option.closest("li").row),
      },
      h("span", { class: "model-title" }, title),
      h(
        "span",
        { class: "model-facts" },
        h("span", { class: `chip output-${model.output_type}` }, typeLabel(model.output_type)),
        model.deprecated ? h("span", { class: "chip deprecated" }, t("picker.deprecated_badge")) : null,
        h("span", { class: "price" }, priceHint(model.price)),
      ),
    );
    const star = h(
      "button",
      {
        type: "button",
        class: "star",
        tabindex: "-1",
        "aria-pressed": String(favourites.has(model.id)),
        "aria-label": t("picker.favourite", { title }),
        title: t("picker.favourite", { title }),
        onclick: () => toggleFavourite(model.id),
      },
      "★",
    );
    const data = canonical ? { id: model.id, model: model.id } : { id: model.id };
    const li = h("li", { dataset: data }, option, star);
    li.row = { li, option, star, id: model.id };
    return li.row;
  };
  const rows = new Map(models.map((model) => [model.id, makeRow(model, true)]));

  const search = h("input", {
    type: "search",
    id: "model-search",
    placeholder: t("picker.search"),
    autocomplete: "off",
    spellcheck: "false",
    value: view.search,
    "aria-controls": "model-groups",
    "aria-describedby": "model-count",
    oninput: () => {
      view.search = search.value;
      update();
      groupsBox.scrollTop = 0;
      setActive(entries()[0] || null);
    },
    onkeydown: (event) => searchKey(event),
  });

  const typeChips = new Map();
  const allTypes = filterChip(t("picker.all"), { type: "" }, () => setFilter("type", ""));
  for (const type of types) typeChips.set(type, filterChip(typeLabel(type), { type }, () => setFilter("type", type)));
  const deprecatedToggle = h("button", {
    type: "button",
    class: "filter-chip deprecated-toggle",
    tabindex: "-1",
    hidden: !deprecatedInCatalog,
    onclick: () => setFilter("deprecated", !view.deprecated),
  });
  const typeBar = h(
    "div",
    { class: "filter-chips type-chips", role: "toolbar", "aria-label": t("picker.types") },
    allTypes.button,
    [...typeChips.values()].map((chip) => chip.button),
    deprecatedToggle,
  );
  roving(typeBar, ".filter-chip");

  const categoryChips = new Map();
  const allCategories = filterChip(t("picker.all"), { category: "" }, () => setFilter("category", ""));
  for (const category of categories) {
    const chip = filterChip(categoryLabel(category), { category }, () => setFilter("category", category));
    categoryChips.set(category, chip);
  }
  const categoryBar = h(
    "div",
    { class: "filter-chips category-chips", role: "toolbar", "aria-label": t("picker.categories") },
    allCategories.button,
    [...categoryChips.values()].map((chip) => chip.button),
  );
  roving(categoryBar, ".filter-chip");
  const categorySummary = h("summary", {});
  const categoryBox = h(
    "details",
    { class: "picker-categories", open: view.categoriesOpen },
    categorySummary,
    categoryBar,
  );
  categoryBox.addEventListener("toggle", () => {
    view.categoriesOpen = categoryBox.open;
    saveView();
  });

  const count = h("p", { class: "muted small picker-count", id: "model-count", "aria-live": "polite" });
  const empty = h("p", { class: "muted", hidden: true }, t("picker.none"));
  const groupsBox = h("div", {
    class: "model-groups",
    id: "model-groups",
    role: "region",
    "aria-label": t("picker.list"),
  });
  groupsBox.addEventListener("scroll", () => (place.scroll = groupsBox.scrollTop), { passive: true });
  groupsBox.addEventListener("keydown", (event) => listKey(event));
  groupsBox.addEventListener("focusin", (event) => {
    const li = event.target.closest("li[data-id]");
    if (li) setActive(li.row, { stop: event.target });
  });

  const body = h(
    "div",
    { class: "picker-body", id: "picker-body" },
    search,
    typeBar,
    categoryBox,
    count,
    empty,
    groupsBox,
  );
  const toggle = h(
    "button",
    {
      type: "button",
      class: "picker-toggle",
      "aria-controls": "picker-body",
      "aria-expanded": String(!view.collapsed),
      onclick: () => {
        view.collapsed = !view.collapsed;
        fold();
        saveView();
        if (!view.collapsed) search.focus();
      },
    },
    h("span", { class: "picker-toggle-label" }, t("picker.title")),
    h("span", { class: "picker-toggle-model" }, current ? pick(current.title) : ""),
  );
  const element = h(
    "nav",
    { class: "picker", "aria-label": t("picker.title") },
    toggle,
    h("label", { for: "model-search", class: "visually-hidden" }, t("picker.search")),
    body,
  );

  function fold() {
    element.dataset.collapsed = String(view.collapsed);
    toggle.setAttribute("aria-expanded", String(!view.collapsed));
  }

  function entries() {
    return [...groupsBox.querySelectorAll("li[data-id]")].map((li) => li.row);
  }

  function setActive(row, { stop = null, scroll = false } = {}) {
    if (active) {
      active.option.classList.remove("active");
      active.option.tabIndex = -1;
      active.star.tabIndex = -1;
    }
    active = row;
    search.removeAttribute("aria-activedescendant");
    if (!row) return;
    row.option.classList.add("active");
    (stop === row.star ? row.star : row.option).tabIndex = 0;
    search.setAttribute("aria-activedescendant", row.option.id);
    if (scroll) keepInView(row.li);
  }

  function keepInView(item, { centre = false } = {}) {
    const box = groupsBox.getBoundingClientRect();
    const at = item.getBoundingClientRect();
    if (!box.height) return;
    if (centre && (at.top < box.top || at.bottom > box.bottom)) {
      groupsBox.scrollTop += at.top - box.top - (box.height - at.height) / 3;
    } else if (at.top < box.top) groupsBox.scrollTop -= box.top - at.top;
    else if (at.bottom > box.bottom) groupsBox.scrollTop += at.bottom - box.bottom;
  }

  function moveTo(row, focus) {
    setActive(row, { scroll: true });
    if (focus) row.option.focus({ preventScroll: true });
  }

  function moveBy(step, { focus = false } = {}) {
    const all = entries();
    if (!all.length) return;
    const index = all.indexOf(active);
    const next = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
    moveTo(all[next], focus);
  }

  const STEPS = { ArrowDown: 1, ArrowUp: -1, PageDown: PAGE_STEP, PageUp: -PAGE_STEP };

  function searchKey(event) {
    // Keys that compose Chinese input (pinyin candidates, Enter to commit) are not the picker's.
    if (event.isComposing || event.keyCode === 229) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key in STEPS) {
      event.preventDefault();
      moveBy(STEPS[event.key]);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (active) choose(active.id);
    } else if (event.key === "Escape" && search.value) {
      event.preventDefault();
      search.value = "";
      search.dispatchEvent(new Event("input"));
    }
  }

  function listKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const row = event.target.closest("li[data-id]")?.row;
    if (!row) return;
    const all = entries();
    if (event.key in STEPS) {
      event.preventDefault();
      if (event.key === "ArrowUp" && all.indexOf(row) === 0) search.focus();
      else moveBy(STEPS[event.key], { focus: true });
    } else if ((event.key === "Home" || event.key === "End") && all.length) {
      event.preventDefault();
      moveTo(event.key === "Home" ? all[0] : all[all.length - 1], true);
    } else if (event.key === "ArrowRight" && event.target === row.option) {
      event.preventDefault();
      row.star.focus();
    } else if (event.key === "ArrowLeft" && event.target === row.star) {
      event.preventDefault();
      row.option.focus();
    } else if (event.key.length === 1 && event.key !== " ") {
      // Typing while in the list goes on with the search.
      search.focus();
    }
  }

  // Where a row is in the list's window; putting it back there after the list above it changed
  // (a new favourite or recent pick) keeps the list still under the pointer.
  const offsetOf = (row) => row.li.getBoundingClientRect().top - groupsBox.getBoundingClientRect().top;
  const holdAt = (row, offset) => {
    if (row.li.isConnected) groupsBox.scrollTop += offsetOf(row) - offset;
  };

  function choose(id, row = active) {
    const focus = document.activeElement;
    place.anchor = row && row === rows.get(id) ? { id, offset: offsetOf(row) } : null;
    place.refocus = focus === search ? "search" : groupsBox.contains(focus) ? "list" : null;
    rememberPick(id);
    if (window.matchMedia(PHONE).matches) {
      view.collapsed = true;
      place.refocus = "toggle";
    }
    saveView();
    if (id !== selected) return onPick(id);
    // The model already open: nothing to load, but it is now the latest recent pick.
    const offset = place.anchor?.offset;
    place.anchor = null;
    place.refocus = null;
    update();
    if (offset !== undefined) holdAt(rows.get(id), offset);
    fold();
    if (view.collapsed && window.matchMedia(PHONE).matches) toggle.focus();
  }

  function toggleFavourite(id) {
    if (favourites.has(id)) favourites.delete(id);
    else favourites.add(id);
    localStorage.setItem(FAVOURITES_KEY, JSON.stringify([...favourites]));
    const row = rows.get(id);
    row.star.setAttribute("aria-pressed", String(favourites.has(id)));
    const focused = document.activeElement;
    const offset = offsetOf(row);
    update();
    holdAt(row, offset);
    // A star pressed in the favourites group has gone with its row: the focus goes to the model's own row.
    if (focused?.classList.contains("star") && !focused.isConnected && groupsBox.contains(row.li)) {
      setActive(row, { stop: row.star });
      row.star.focus({ preventScroll: true });
      keepInView(row.li);
    }
  }

  function setFilter(name, value) {
    view[name] = value;
    update();
    groupsBox.scrollTop = 0;
  }

  function group(data, label, rowsIn) {
    const heading = h("h3", { id: uid("model-group") }, label, " ", h("span", { class: "n" }, String(rowsIn.length)));
    const list = h("ul", { class: "model-list", "aria-labelledby": heading.id }, rowsIn.map((row) => row.li));
    return h("section", { class: "model-group", dataset: data }, heading, list);
  }

  function update() {
    const found = words();
    const tally = (skip, key) => {
      const counts = new Map();
      for (const model of models) {
        if (passes(model, found, skip)) counts.set(key(model), (counts.get(key(model)) || 0) + 1);
      }
      return counts;
    };
    const byType = tally("type", (m) => m.output_type);
    const byCategory = tally("category", (m) => m.category);
    const sum = (counts) => [...counts.values()].reduce((a, b) => a + b, 0);
    allTypes.count.textContent = String(sum(byType));
    allTypes.button.setAttribute("aria-pressed", String(!view.type));
    for (const [type, chip] of typeChips) {
      chip.count.textContent = String(byType.get(type) || 0);
      chip.button.setAttribute("aria-pressed", String(view.type === type));
    }
    allCategories.count.textContent = String(sum(byCategory));
    allCategories.button.setAttribute("aria-pressed", String(!view.category));
    for (const [category, chip] of categoryChips) {
      const n = byCategory.get(category) || 0;
      chip.count.textContent = String(n);
      chip.button.setAttribute("aria-pressed", String(view.category === category));
      chip.button.hidden = n === 0 && view.category !== category;
    }
    const deprecatedShown = models.filter((m) => m.deprecated && passes(m, found, "deprecated")).length;
    deprecatedToggle.textContent = t("picker.show_deprecated", { n: deprecatedShown });
    deprecatedToggle.setAttribute("aria-pressed", String(view.deprecated));
    categorySummary.replaceChildren(
      h("span", { class: "summary-label" }, t("picker.categories")),
      h("span", { class: "summary-value" }, view.category ? categoryLabel(view.category) : t("picker.all")),
    );
    for (const bar of [typeBar, categoryBar]) {
      if (!bar.contains(document.activeElement)) tabStop(bar, ".filter-chip");
    }

    // The list: shortcuts to favourites and recent picks, then every category, deprecated models last.
    const shown = models.filter((model) => passes(model, found));
    const shownIds = new Set(shown.map((m) => m.id));
    const favourite = shown.filter((m) => favourites.has(m.id)).map((m) => makeRow(m, false));
    const recent = storedIds(RECENT_KEY)
      .filter((id) => shownIds.has(id))
      .map((id) => makeRow(byId.get(id), false));
    const byGroup = new Map(categories.map((c) => [c, []]));
    for (const model of shown) byGroup.get(model.category).push(model);
    const focused = document.activeElement;
    clear(
      groupsBox,
      favourite.length ? group({ group: "favourites" }, t("picker.favourites"), favourite) : null,
      recent.length ? group({ group: "recent" }, t("picker.recent"), recent) : null,
      [...byGroup]
        .filter(([, list]) => list.length)
        .map(([category, list]) =>
          group(
            { group: "category", category },
            categoryLabel(category),
            list.sort((a, b) => Number(a.deprecated) - Number(b.deprecated)).map((m) => rows.get(m.id)),
          ),
        ),
    );
    if (focused?.isConnected && focused !== document.activeElement) focused.focus({ preventScroll: true });
    count.textContent = shown.length === 1 ? t("picker.count_one") : t("picker.count", { n: shown.length });
    empty.hidden = shown.length > 0;

    // The keyboard stays where it was, else goes to the current model, else to the first one shown.
    if (active?.li.isConnected) {
      setActive(active, { stop: groupsBox.contains(document.activeElement) ? document.activeElement : null });
    } else setActive(shownIds.has(selected) ? rows.get(selected) : entries()[0] || null);
    saveView();
  }

  fold();
  update();

  // Once on the page: the list where it was, the current model in view, the focus back where it was.
  function reveal() {
    groupsBox.scrollTop = place.scroll;
    const row = rows.get(selected);
    if (place.anchor?.id === selected && row) holdAt(row, place.anchor.offset);
    place.anchor = null;
    if (row?.li.isConnected) keepInView(row.li, { centre: true });
    const refocus = place.refocus;
    place.refocus = null;
    if (refocus === "search") search.focus({ preventScroll: true });
    else if (refocus === "list" && active) active.option.focus({ preventScroll: true });
    else if (refocus === "toggle") toggle.focus({ preventScroll: true });
  }

  return { element, reveal };
}
