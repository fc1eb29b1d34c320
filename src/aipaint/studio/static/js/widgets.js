// One builder per `x-widget` of the catalog's JSON Schema. A builder gets the param's name, its
// schema and the field's context, and returns {control, get, set, pending?}:
//   control: the element that stands for the param (it carries data-control and the field's id)
//   get():   the value to send, or undefined to leave the param out
//   set(v):  show a value (undefined: unset, sent as nothing), or a past task's params for "run again"
// An optional param starts unset and is left out of the request: RunningHub then applies its own
// default, which the control shows as its placeholder or hint. A required one starts at a value.

import { api } from "./api.js";
import { h, uid } from "./dom.js";
import { pick, t } from "./i18n.js";

export const WIDGETS = {
  text: textInput,
  textarea,
  tags,
  select,
  seed,
  segmented,
  slider,
  number,
  switch: toggle,
  upload,
};

function textInput(name, prop, ctx) {
  const input = h("input", {
    type: "text",
    id: ctx.id,
    name,
    autocomplete: "off",
    placeholder: ctx.placeholder,
    oninput: ctx.changed,
  });
  if (prop.maxLength) input.setAttribute("aria-describedby", ctx.describedBy);
  return {
    control: mark(input, ctx),
    get: () => (input.value === "" ? undefined : input.value),
    set: (value) => {
      input.value = value ?? "";
    },
  };
}

function textarea(name, prop, ctx) {
  const area = h("textarea", {
    id: ctx.id,
    name,
    rows: 4,
    placeholder: ctx.placeholder,
    oninput: () => count() || ctx.changed(),
  });
  const counter = h("span", { class: "counter", "aria-live": "polite" });
  // No maxlength attribute: a paste that is too long stays visible and the count turns red, so
  // that the user sees what to cut; the server refuses it with a field error.
  function count() {
    const n = [...area.value].length;
    counter.textContent = prop.maxLength
      ? t("form.chars", { n, max: prop.maxLength })
      : t("form.chars_nomax", { n });
    counter.classList.toggle("over", Boolean(prop.maxLength) && n > prop.maxLength);
  }
  count();
  return {
    control: h("div", { class: "textarea-wrap" }, mark(area, ctx), counter),
    get: () => (area.value === "" ? undefined : area.value),
    set: (value) => {
      area.value = value ?? "";
      count();
    },
  };
}

function tags(name, prop, ctx) {
  let values = [];
  const list = h("ul", { class: "chips", "aria-live": "polite" });
  const input = h("input", {
    type: "text",
    id: ctx.id,
    name,
    autocomplete: "off",
    placeholder: t("form.tags_help"),
    onkeydown: (event) => {
      if ((event.key === "Enter" || event.key === ",") && input.value.trim()) {
        event.preventDefault();
        values = [...values, input.value.trim()];
        input.value = "";
        render();
        ctx.changed();
      }
    },
  });
  function render() {
    list.replaceChildren(
      ...values.map((value, index) =>
        h(
          "li",
          { class: "chip" },
          value,
          h(
            "button",
            {
              type: "button",
              class: "chip-remove",
              "aria-label": `${t("form.remove")} ${value}`,
              onclick: () => {
                values = values.filter((_, i) => i !== index);
                render();
                ctx.changed();
              },
            },
            "×",
          ),
        ),
      ),
    );
  }
  return {
    control: h("div", { class: "tags" }, list, mark(input, ctx)),
    get: () => {
      const all = input.value.trim() ? [...values, input.value.trim()] : values;
      return all.length ? all : undefined;
    },
    set: (value) => {
      values = Array.isArray(value) ? value.map(String) : [];
      input.value = "";
      render();
    },
  };
}

function enumLabel(prop, value) {
  const labels = prop["x-enum-labels"] || {};
  return labels[value] ? pick(labels[value]) : value;
}

function select(name, prop, ctx) {
  const choose = h("option", { value: "" }, t("form.choose"));
  // Optional: the empty choice leaves the param to RunningHub, and says what it then uses.
  const unset = h(
    "option",
    { value: "" },
    prop.default !== undefined ? t("form.default_choice", { v: enumLabel(prop, prop.default) }) : t("form.unset_choice"),
  );
  const element = h(
    "select",
    { id: ctx.id, name, onchange: ctx.changed },
    ctx.required ? null : unset,
    prop.enum.map((value) => h("option", { value }, enumLabel(prop, value))),
  );
  return {
    control: mark(element, ctx),
    get: () => (element.value === "" ? undefined : element.value),
    set: (value) => {
      element.value = value === undefined || value === null ? "" : String(value);
      if (element.value === "" && !element.querySelector('option[value=""]')) {
        element.prepend(choose);
        element.value = "";
      }
    },
  };
}

function segmented(name, prop, ctx) {
  const group = uid(`seg-${name}`);
  const inputs = prop.enum.map((value) =>
    h("input", { type: "radio", name: group, value, id: uid("opt"), onchange: ctx.changed }),
  );
  const element = h(
    "div",
    { class: "segmented", role: "radiogroup", id: ctx.id, "aria-labelledby": ctx.labelId },
    inputs.map((input, i) =>
      h("span", { class: "segment" }, input, h("label", { for: input.id }, enumLabel(prop, prop.enum[i]))),
    ),
  );
  return {
    control: mark(element, ctx),
    get: () => inputs.find((input) => input.checked)?.value,
    set: (value) => {
      for (const input of inputs) input.checked = input.value === String(value ?? "");
    },
  };
}

function numberInput(name, prop, ctx) {
  const step = prop["x-step"] ?? (prop.type === "integer" ? 1 : "any");
  return h("input", {
    type: "number",
    id: ctx.id,
    name,
    inputmode: prop.type === "integer" ? "numeric" : "decimal",
    min: prop.minimum,
    max: prop.maximum,
    step,
    // Unset, the box shows RunningHub's default, greyed (the hint says it in words).
    placeholder: prop.default !== undefined ? String(prop.default) : undefined,
    oninput: ctx.changed,
  });
}

function readNumber(input) {
  if (input.validity.badInput) return input.value; // sent as typed: the server names the field
  return input.value === "" ? undefined : Number(input.value);
}

function slider(name, prop, ctx) {
  const field = numberInput(name, prop, ctx);
  const rest = prop.default ?? prop.minimum ?? 0;
  const range = h("input", {
    type: "range",
    min: prop.minimum ?? 0,
    max: prop.maximum ?? 100,
    step: prop["x-step"] ?? (prop.type === "integer" ? 1 : "any"),
    tabindex: -1,
    "aria-hidden": "true",
    oninput: () => {
      field.value = range.value;
      sync();
      ctx.changed();
    },
  });
  // The range follows the box: an empty box (unset) draws the default, dimmed, never the maximum.
  function sync() {
    const unset = field.value === "" || !Number.isFinite(Number(field.value));
    range.value = String(unset ? rest : field.value);
    range.classList.toggle("unset", unset);
  }
  field.addEventListener("input", sync);
  sync();
  const bounds = h("span", { class: "bounds" }, `${prop.minimum ?? ""} – ${prop.maximum ?? ""}`);
  return {
    control: h("div", { class: "slider" }, range, mark(field, ctx), bounds),
    get: () => readNumber(field),
    set: (value) => {
      field.value = value ?? "";
      sync();
    },
  };
}

function number(name, prop, ctx) {
  const field = numberInput(name, prop, ctx);
  return {
    control: mark(field, ctx),
    get: () => readNumber(field),
    set: (value) => {
      field.value = value ?? "";
    },
  };
}

// A seed: a number box, a button that draws a random one, and a lock. Unlocked, a seed that is set
// is replaced by a new random one after each Generate; locked, it is kept. Empty, none is sent
// and RunningHub draws its own.
export function randomSeed(prop) {
  const lo = Math.max(prop.minimum ?? 0, 0);
  const hi = Math.min(prop.maximum ?? 2147483647, 2147483647);
  const [n] = crypto.getRandomValues(new Uint32Array(1));
  return lo + (n % (hi - lo + 1));
}

function seed(name, prop, ctx) {
  const field = numberInput(name, prop, ctx);
  field.placeholder = t("form.seed_random");
  let locked = false;
  const dice = h(
    "button",
    {
      type: "button",
      class: "ghost seed-random",
      title: t("form.seed_randomize"),
      onclick: () => {
        field.value = String(randomSeed(prop));
        ctx.changed();
      },
    },
    t("form.seed_randomize"),
  );
  const lock = h(
    "button",
    {
      type: "button",
      class: "ghost seed-lock",
      "aria-pressed": "false",
      title: t("form.seed_lock_help"),
      onclick: () => {
        locked = !locked;
        lock.setAttribute("aria-pressed", String(locked));
      },
    },
    t("form.seed_lock"),
  );
  return {
    control: h("div", { class: "seed-row" }, mark(field, ctx), dice, lock),
    get: () => readNumber(field),
    set: (value) => {
      field.value = value ?? "";
    },
    seed: {
      locked: () => locked,
      // After a Generate: a set, unlocked seed moves on to a new random one.
      advance: () => {
        if (!locked && field.value !== "") field.value = String(randomSeed(prop));
      },
      random: () => randomSeed(prop),
    },
  };
}

function toggle(name, prop, ctx) {
  // An optional switch is sent only once touched: until then it shows RunningHub's default
  // position, and RunningHub applies that default itself.
  let touched = false;
  const input = h("input", {
    type: "checkbox",
    role: "switch",
    id: ctx.id,
    name,
    onchange: () => {
      touched = true;
      ctx.changed();
    },
  });
  return {
    control: h("span", { class: "switch" }, mark(input, ctx), h("span", { class: "track", "aria-hidden": "true" })),
    get: () => (touched || ctx.required ? input.checked : undefined),
    set: (value) => {
      touched = value !== undefined && value !== null;
      input.checked = touched ? value === true : prop.default === true;
    },
  };
}

function upload(name, prop, ctx) {
  const many = prop.type === "array";
  const item = many ? prop.items : prop;
  const media = item["x-media"];
  const accept = item["x-accept"] || [];
  const maxMb = item["x-max-size-mb"];
  const maxItems = many ? prop.maxItems ?? 20 : 1;
  let items = []; // {url, name, preview, state: "uploading" | "done" | "error", error}

  const fileInput = h("input", {
    type: "file",
    id: ctx.id,
    class: "visually-hidden",
    multiple: many,
    accept: accept.length ? accept.map((ext) => `.${ext.toLowerCase()}`).join(",") : `${media}/*`,
    onchange: () => {
      addFiles([...fileInput.files]);
      fileInput.value = "";
    },
  });
  const zone = h(
    "label",
    { class: "dropzone", for: ctx.id },
    h("span", { class: "dropzone-title" }, many ? t("upload.drop_many", { n: maxItems }) : t("upload.drop")),
    h(
      "span",
      { class: "dropzone-hint" },
      [accept.length ? t("upload.formats", { f: accept.join(", ") }) : null, maxMb ? t("upload.max_size", { n: maxMb }) : null]
        .filter(Boolean)
        .join(" · "),
    ),
  );
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    addFiles([...event.dataTransfer.files]);
  });
  const urlInput = h("input", {
    type: "url",
    class: "url-input",
    placeholder: t("upload.url"),
    "aria-label": `${ctx.label} — ${t("upload.url")}`,
    onkeydown: (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        addUrl();
      }
    },
  });
  const list = h("ul", { class: "previews" });
  const problem = h("p", { class: "local-error", role: "alert", hidden: true });

  function addUrl() {
    const url = urlInput.value.trim();
    if (!url) return;
    if (!roomFor(1)) return;
    items = [...items, { url, name: url.split("/").pop(), preview: url, state: "done" }];
    urlInput.value = "";
    render();
    ctx.changed();
  }

  function roomFor(n) {
    if (items.length + n > maxItems) {
      say(t("upload.too_many", { n: maxItems }));
      return false;
    }
    return true;
  }

  function say(message) {
    problem.textContent = message;
    problem.hidden = !message;
  }

  // Checked here, before anything is sent: the format, the size and the number of files.
  function refusal(file) {
    const ext = file.name.includes(".") ? file.name.split(".").pop().toUpperCase() : "";
    const typeOk = accept.length ? accept.includes(ext) : file.type.startsWith(`${media}/`);
    if (!typeOk) return t("upload.bad_type", { name: file.name, f: accept.join(", ") || media });
    const size = file.size / 1024 / 1024;
    if (maxMb && size > maxMb) {
      return t("upload.too_big", { name: file.name, size: size.toFixed(1), max: maxMb });
    }
    return null;
  }

  function addFiles(files) {
    say("");
    if (!many && files.length) items = [];
    if (!roomFor(files.length)) return;
    for (const file of files) {
      const reason = refusal(file);
      if (reason) {
        say(reason);
        continue;
      }
      const entry = { name: file.name, preview: URL.createObjectURL(file), state: "uploading" };
      items = [...items, entry];
      api
        .upload(file, ctx.model, name)
        .then((answer) => {
          entry.url = answer.url;
          entry.state = "done";
        })
        .catch((error) => {
          entry.state = "error";
          entry.error = t("upload.failed", { msg: error.message });
          say(entry.error);
        })
        .finally(() => {
          render();
          ctx.changed();
        });
    }
    render();
    ctx.changed();
  }

  function preview(entry) {
    if (media === "video") return h("video", { src: entry.preview, muted: true, preload: "metadata" });
    if (media === "audio") return h("audio", { src: entry.preview, controls: true, preload: "none" });
    return h("img", { src: entry.preview, alt: entry.name });
  }

  function render() {
    list.replaceChildren(
      ...items.map((entry) =>
        h(
          "li",
          { class: `preview ${entry.state}` },
          preview(entry),
          h("span", { class: "preview-name" }, entry.state === "uploading" ? t("upload.uploading") : entry.name),
          h(
            "button",
            {
              type: "button",
              class: "chip-remove",
              "aria-label": `${t("form.remove")} ${entry.name}`,
              onclick: () => {
                items = items.filter((other) => other !== entry);
                if (entry.preview.startsWith("blob:")) URL.revokeObjectURL(entry.preview);
                render();
                ctx.changed();
              },
            },
            "×",
          ),
        ),
      ),
    );
    zone.hidden = items.length >= maxItems;
  }

  const control = h(
    "div",
    { class: "upload" },
    fileInput,
    zone,
    h("div", { class: "url-row" }, urlInput, h("button", { type: "button", class: "ghost", onclick: addUrl }, t("upload.add_url"))),
    list,
    problem,
  );
  mark(control, ctx);
  fileInput.setAttribute("aria-describedby", ctx.describedBy);
  return {
    control,
    get: () => {
      const urls = items.filter((entry) => entry.state === "done").map((entry) => entry.url);
      if (!urls.length) return undefined;
      return many ? urls : urls[0];
    },
    set: (value) => {
      const urls = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
      items = urls.map((url) => ({ url, name: String(url).split("/").pop().split("?")[0], preview: url, state: "done" }));
      say("");
      render();
    },
    pending: () => items.some((entry) => entry.state === "uploading"),
  };
}

function mark(element, ctx) {
  element.dataset.control = ctx.name;
  if (element.matches("input, textarea, select") || element.getAttribute("role")) {
    element.setAttribute("aria-describedby", ctx.describedBy);
    if (ctx.required) element.setAttribute("aria-required", "true");
  }
  return element;
}
