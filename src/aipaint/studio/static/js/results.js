// What a result says about its task at a glance: the prompt's first line, when it ran, how long
// it took, what it cost and its key settings; how its files are named when downloaded, and the
// links that share them.

import { api } from "./api.js";
import { h } from "./dom.js";
import { formatSeconds, lang, t } from "./i18n.js";

export const FINAL = new Set(["succeeded", "failed", "canceled"]);

// Params that hold what the user asked for, best first; a negative prompt is not the prompt.
const PROMPT_KEYS = [/^prompt$/i, /prompt/i, /^(text|input|content|query|lyrics|script)$/i, /text|lyrics|script/i];
const NOT_PROMPT = /negative|url|image|video|audio|file|voice_id/i;
const DURATION_KEY = /duration|seconds/i;
// How many outputs were asked for: n, imageNum, numImages, maxImages, imageCount…
const COUNT_KEY = /^(n|num\w*|\w*(image|output|video)s?_?(num|count)|max_?images)$/i;
const MAX_COUNT = 64;
// Settings worth a glance, in the order they are shown; at most three per card.
const SETTING_KEYS = [
  /resolution/i,
  /aspect|ratio/i,
  /^(size|image_?size)$/i,
  /duration|seconds/i,
  /^(width|height)$/i,
  /quality/i,
  COUNT_KEY,
];
const MAX_SETTINGS = 3;

function isScalar(value) {
  return ["string", "number", "boolean"].includes(typeof value) && String(value).trim() !== "";
}

function looksLikeLink(value) {
  return /^(https?:|data:|\/files\/)/i.test(value.trim());
}

// The param holding the prompt: [key, value], or null.
export function promptParam(params) {
  const entries = Object.entries(params || {}).filter(
    ([key, value]) => typeof value === "string" && value.trim() && !NOT_PROMPT.test(key) && !looksLikeLink(value),
  );
  for (const pattern of PROMPT_KEYS) {
    const found = entries.find(([key]) => pattern.test(key));
    if (found) return found;
  }
  return null;
}

export function promptLine(params) {
  const found = promptParam(params);
  if (!found) return "";
  return found[1].trim().split(/\r?\n/)[0].trim();
}

// Up to three short settings worth seeing on a card: [key, shown text].
export function keySettings(params) {
  const prompt = promptParam(params)?.[0];
  const entries = Object.entries(params || {}).filter(
    ([key, value]) =>
      key !== prompt && isScalar(value) && String(value).length <= 24 && !/negative/i.test(key) && !looksLikeLink(String(value)),
  );
  const chosen = [];
  for (const pattern of SETTING_KEYS) {
    for (const [key, value] of entries) {
      if (chosen.length >= MAX_SETTINGS) return chosen;
      if (!pattern.test(key) || chosen.some(([k]) => k === key)) continue;
      const numeric = typeof value === "number" || /^\d+(\.\d+)?$/.test(String(value));
      let text = String(value);
      if (numeric && DURATION_KEY.test(key)) text = formatSeconds(Number(value));
      else if (numeric && COUNT_KEY.test(key)) {
        if (Number(value) > MAX_COUNT) continue;
        text = `×${value}`;
      }
      chosen.push([key, text]);
    }
  }
  return chosen;
}

export function settingsView(params) {
  const settings = keySettings(params);
  if (!settings.length) return null;
  return h(
    "ul",
    { class: "task-settings" },
    settings.map(([key, text]) => h("li", { class: "chip", title: key, dataset: { param: key } }, text)),
  );
}

function locale() {
  return lang() === "zh" ? "zh-CN" : "en";
}

export function exactTime(iso) {
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "medium" }).format(new Date(iso));
}

const STEPS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

export function relativeTime(iso, now = Date.now()) {
  const seconds = (Date.parse(iso) - now) / 1000;
  const format = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  if (Math.abs(seconds) < 45) return format.format(0, "second");
  for (const [unit, size] of STEPS) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(0, "second");
}

// Relative times age: every shown one is said again each half minute.
setInterval(() => {
  for (const el of document.querySelectorAll("time.task-when")) el.textContent = relativeTime(el.dateTime);
}, 30000);

// When the task was made: relative, with the exact time on hover.
export function whenView(task) {
  return h(
    "time",
    { class: "task-when", datetime: task.created_at, title: exactTime(task.created_at) },
    relativeTime(task.created_at),
  );
}

// How long the task ran: submitted (or created) to finished, or until now while it runs.
export function durationSeconds(task) {
  const started = Date.parse(task.submitted_at || task.created_at);
  const ended = task.finished_at ? Date.parse(task.finished_at) : Date.now();
  return (ended - started) / 1000;
}

function currencySign(currency) {
  return !currency || currency === "CNY" ? "¥" : `${currency} `;
}

// RunningHub bills in yuan; a task's usage carries what it was charged, as text.
export function recordedMoney(task) {
  const money = task.usage?.money;
  return money === null || money === undefined || money === "" ? null : String(money);
}

// Price estimates, one per model and params, for tasks that carry no recorded charge.
const estimates = new Map();
export function estimateOf(task) {
  const key = `${task.model}\n${JSON.stringify(task.params || {})}`;
  if (!estimates.has(key)) {
    estimates.set(
      key,
      api.estimate(task.model, task.params || {}).catch(() => null),
    );
  }
  return estimates.get(key);
}

// The task's cost: what it was charged when recorded, else the estimate, marked as such.
export function costView(task) {
  const money = recordedMoney(task);
  if (money !== null) {
    return h(
      "span",
      { class: "task-cost", title: t("results.cost_recorded"), dataset: { source: "recorded", money } },
      `¥${money}`,
    );
  }
  if (FINAL.has(task.status) && !task.upstream_task_id && task.error?.code !== "submit_uncertain") {
    // It never reached RunningHub (refused, or canceled before it was sent): nothing was charged.
    // A submit of unknown outcome may have created a task there, so it keeps its estimate.
    return h("span", { class: "task-cost", dataset: { source: "none", money: "0" } }, t("results.cost_none"));
  }
  const el = h("span", { class: "task-cost", dataset: { source: "estimate" }, hidden: true });
  estimateOf(task).then((answer) => {
    const amount = answer?.known ? (answer.total ?? answer.unit_price) : null;
    if (amount === null || amount === undefined) {
      el.textContent = t("price.unknown");
      el.dataset.source = "unknown";
      el.hidden = false;
      return;
    }
    const price = `${answer.minimum ? `${t("price.from")} ` : ""}${currencySign(answer.currency)}${amount}`;
    el.textContent = t("results.cost_estimate", { p: price });
    el.title = t("results.cost_estimate_hint");
    el.dataset.money = String(amount);
    el.hidden = false;
  });
  return el;
}

// Downloads are named after the model and the task, as the server names the file it serves
// (its Content-Disposition wins over a link's download attribute): <model>_<task id>_<n>.<ext>,
// the model id with anything but letters, digits, ".", "_" and "-" made a "-".
export function modelSlug(modelId) {
  return (
    String(modelId || "")
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "output"
  );
}

const CONTENT_TYPES = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "image/gif": "gif",
  "video/mp4": "mp4",
  "video/webm": "webm",
  "video/quicktime": "mov",
  "audio/mpeg": "mp3",
  "audio/wav": "wav",
  "audio/x-wav": "wav",
  "model/gltf-binary": "glb",
  "text/plain": "txt",
};

export function extensionOf(output, url) {
  const type = String(output.type || "").toLowerCase();
  if (/^[a-z0-9]{1,8}$/.test(type)) return type;
  if (CONTENT_TYPES[type]) return CONTENT_TYPES[type];
  const path = String(url || "").split(/[?#]/)[0];
  const match = /\.([a-z0-9]{1,8})$/i.exec(path);
  if (match) return match[1].toLowerCase();
  return output.text !== null && output.text !== undefined ? "txt" : "bin";
}

export function downloadName(task, output, url) {
  return `${modelSlug(task.model)}_${task.id}_${output.index}.${extensionOf(output, url)}`;
}

export function absoluteUrl(url) {
  return new URL(url, location.href).href;
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain http on a LAN has no clipboard API: the old way still copies.
  const area = h("textarea", { class: "visually-hidden", readonly: true }, text);
  document.body.append(area);
  area.select();
  try {
    if (!document.execCommand("copy")) throw new Error("copy refused");
  } finally {
    area.remove();
  }
}

// "Copy share link": the output's signed link, absolute, on the clipboard.
export function shareButton(url) {
  const link = absoluteUrl(url);
  const button = h(
    "button",
    {
      type: "button",
      class: "ghost share",
      dataset: { url: link },
      onclick: async () => {
        try {
          await copyText(link);
          button.textContent = t("results.copied");
        } catch {
          button.textContent = t("results.copy_failed");
        }
        setTimeout(() => {
          if (button.isConnected) button.textContent = t("results.share");
        }, 2500);
      },
    },
    t("results.share"),
  );
  return button;
}
