// Task cards: status, elapsed time and estimated progress while a task runs, then its outputs
// or its error. A card follows its task live through SSE, falling back to polling.

import { api, followEvents } from "./api.js";
import { clear, h } from "./dom.js";
import { formatSeconds, lang, t } from "./i18n.js";
import { FINAL, costView, downloadName, durationSeconds, promptLine, settingsView, shareButton, whenView } from "./results.js";

const IMAGE = new Set(["png", "jpg", "jpeg", "webp", "gif", "bmp"]);
const VIDEO = new Set(["mp4", "webm", "mov"]);
const AUDIO = new Set(["mp3", "wav", "m4a", "flac", "ogg", "aac"]);
const ARCHIVE_WAIT_S = 300;

export const isFinal = (task) => FINAL.has(task.status);
// RunningHub's links expire; our archived copy may land just after the task is final.
export const awaitsArchive = (task) => task.status === "succeeded" && task.outputs.some((o) => !o.archived);

// Follow a task until it is final and its outputs are archived, telling `onUpdate` of each new
// state: over SSE (or polling, past MAX_STREAMS open streams), then polling for the archive
// while `shown()`. Stops when `signal` aborts.
export async function followTask(first, onUpdate, signal, shown = () => true) {
  let task = first;
  const refresh = async () => {
    try {
      task = await api.task(task.id);
      if (!signal.aborted) onUpdate(task);
    } catch {
      // Kept as it is; the next attempt reads again.
    }
  };
  let delay = 1000;
  while (!signal.aborted && !isFinal(task)) {
    if (streams >= MAX_STREAMS) {
      await sleep(POLL_MS);
      if (!signal.aborted) await refresh();
      continue;
    }
    streams += 1;
    try {
      await followEvents(task.id, (next) => onUpdate((task = next)), signal);
    } catch (error) {
      if (signal.aborted) return;
      // The stream broke (network, server restart): read the task, then stream again.
      await sleep(delay);
      delay = Math.min(delay * 2, 15000);
      await refresh();
    } finally {
      streams -= 1;
    }
  }
  const start = Date.now();
  while (!signal.aborted && awaitsArchive(task) && shown()) {
    if (Date.now() - start > ARCHIVE_WAIT_S * 1000) return;
    await sleep(1000);
    await refresh();
  }
}

// Past run times per model, asked once per page view: what the progress bar estimates from.
const runTimes = new Map();
function expectedSeconds(model) {
  if (!runTimes.has(model)) {
    runTimes.set(model, api.runTimes(model).then((answer) => answer.median_s).catch(() => null));
  }
  return runTimes.get(model);
}

// A browser opens at most six HTTP/1.1 connections to a host: a few tasks stream their events,
// the others are read every few seconds, so that the rest of the page is never starved.
const MAX_STREAMS = 3;
const POLL_MS = 2000;
let streams = 0;

// One clock for every live card, so that a page of cards costs one timer. A card no longer on
// the page (another view, another model) stops following its task here.
const ticking = new Set();
setInterval(() => {
  for (const card of ticking) {
    if (card.el.isConnected) {
      card.tick();
    } else {
      ticking.delete(card);
      card.stop();
    }
  }
}, 1000);

export class TaskCard {
  // select: {isSelected(id), toggle(task, on)} when the card can be picked for comparison.
  constructor(task, { titleOf, onAgain, onChange = () => {}, select = null }) {
    this.task = task;
    this.titleOf = titleOf;
    this.onAgain = onAgain;
    this.onChange = onChange;
    this.select = select;
    this.expected = null;
    this.stop = () => {};
    this.el = h("article", { class: "task-card", dataset: { task: task.id } });
    this.render();
    expectedSeconds(task.model).then((seconds) => {
      this.expected = seconds;
      this.tick();
    });
  }

  update(task) {
    this.task = task;
    this.render();
    this.onChange(task);
  }

  // Follow the task until it is final and its outputs are archived. Returns a stop function.
  follow() {
    const control = new AbortController();
    this.stop = () => control.abort();
    ticking.add(this);
    followTask(this.task, (task) => this.update(task), control.signal, () => this.el.isConnected);
    return this.stop;
  }

  async refresh() {
    try {
      this.update(await api.task(this.task.id));
    } catch {
      // Kept as it is; the next attempt reads again.
    }
  }

  waitingForArchive() {
    return awaitsArchive(this.task);
  }

  tick() {
    const task = this.task;
    if (!this.clock) return;
    const elapsed = durationSeconds(task);
    if (isFinal(task)) {
      this.clock.textContent = t("tasks.took", { t: formatSeconds(elapsed) });
      ticking.delete(this);
      return;
    }
    const parts = [t("tasks.elapsed", { t: formatSeconds(elapsed) })];
    if (this.expected) parts.push(t("tasks.eta", { t: formatSeconds(this.expected) }));
    this.clock.textContent = parts.join(" · ");
    if (this.bar) {
      if (this.expected && task.status === "running") {
        // Never 100% before RunningHub says so: the bar slows down as it nears the estimate.
        const share = Math.min(0.95, 1 - Math.exp(-elapsed / this.expected));
        this.bar.value = Math.round(share * 100);
      } else {
        this.bar.removeAttribute("value");
      }
    }
  }

  render() {
    const task = this.task;
    const live = !isFinal(task);
    const title = this.titleOf(task.model);
    const prompt = promptLine(task.params);
    this.clock = h("span", { class: "clock" });
    this.bar = live
      ? h("progress", { max: 100, "aria-label": t(`status.${task.status}`) })
      : null;
    const actions = h(
      "div",
      { class: "task-actions" },
      h("a", { class: "button ghost task-open", href: `#/task/${encodeURIComponent(task.id)}` }, t("results.details")),
      live
        ? h("button", { type: "button", class: "ghost danger", onclick: () => this.cancel() }, t("tasks.cancel"))
        : null,
      this.onAgain
        ? h("button", { type: "button", class: "ghost", onclick: () => this.onAgain(task) }, t("tasks.again"))
        : null,
    );
    const pick = this.select
      ? h("input", {
          type: "checkbox",
          class: "task-select",
          checked: this.select.isSelected(task.id),
          "aria-label": t("results.select", { title }),
          title: t("results.compare"),
          onchange: (event) => this.select.toggle(task, event.target.checked),
        })
      : null;
    this.el.className = `task-card status-${task.status}`;
    clear(
      this.el,
      h(
        "header",
        { class: "task-head" },
        pick,
        h("span", { class: "task-title" }, title),
        h("span", { class: `badge ${task.status}`, dataset: { status: task.status } }, t(`status.${task.status}`)),
      ),
      task.status === "succeeded" ? outputs(task, { compact: true }) : null,
      prompt ? h("p", { class: "task-prompt", title: prompt }, prompt) : null,
      h("div", { class: "task-meta" }, whenView(task), this.clock, costView(task)),
      settingsView(task.params),
      h("div", { class: "task-id" }, h("code", {}, task.id)),
      this.bar,
      task.error ? errorBox(task.error) : null,
      task.webhook_url ? deliveries(task) : null,
      actions,
    );
    if (live) ticking.add(this);
    this.tick();
  }

  async cancel() {
    try {
      this.update(await api.cancel(this.task.id));
    } catch (error) {
      await this.refresh();
      if (!isFinal(this.task)) alert(error.message);
    }
  }
}

// The task's webhook deliveries, read when opened: each with its attempts, and sent again on
// demand.
export function deliveries(task, { open = false } = {}) {
  const body = h("div", { class: "delivery-list" });
  let timer = null;
  const load = async () => {
    clearTimeout(timer);
    try {
      const answer = await api.deliveries(task.id);
      clear(body, answer.deliveries.length ? answer.deliveries.map((d) => delivery(task, d, load)) : h("p", { class: "muted" }, t("webhooks.none")));
      // While one is still being sent, look again: its attempts come in as they are made.
      if (answer.deliveries.some((d) => d.status === "pending") && box.open && box.isConnected) {
        timer = setTimeout(load, 1000);
      }
    } catch (error) {
      clear(body, h("p", { class: "muted" }, error.message));
    }
  };
  const box = h("details", { class: "deliveries", ontoggle: () => box.open && load() }, h("summary", {}, t("webhooks.title")), body);
  box.open = open;
  return box;
}

function delivery(task, item, reload) {
  const send = async () => {
    try {
      await api.retryDelivery(task.id, item.id);
    } finally {
      await reload();
    }
  };
  return h(
    "div",
    { class: "delivery", dataset: { delivery: item.id, status: item.status } },
    h(
      "div",
      { class: "delivery-head" },
      h("code", {}, item.event),
      h("span", { class: `badge ${item.status}` }, t(`webhooks.status.${item.status}`)),
      h("button", { type: "button", class: "ghost", onclick: send }, t("webhooks.retry")),
    ),
    h(
      "ol",
      { class: "attempts" },
      item.attempts.map((a) =>
        h(
          "li",
          {},
          new Date(a.at).toLocaleTimeString(lang() === "zh" ? "zh-CN" : "en"),
          " · ",
          a.status_code === null ? t("webhooks.no_answer") : String(a.status_code),
          ` · ${a.duration_ms} ms`,
          a.error ? h("span", { class: "muted" }, ` · ${a.error}`) : null,
        ),
      ),
    ),
  );
}

export function errorBox(error) {
  return h(
    "div",
    { class: "task-error", role: "alert" },
    h("strong", {}, error.code),
    error.upstream_code ? h("span", { class: "upstream-code" }, t("tasks.upstream_code", { c: error.upstream_code })) : null,
    h("p", {}, error.message),
  );
}

// A task's outputs. On a card (compact), the first is the thumbnail, with its download and share
// link; the others follow as small previews that open full size.
export function outputs(task, { compact = false } = {}) {
  if (!task.outputs.length) return h("p", { class: "muted" }, t("tasks.no_outputs"));
  return h(
    "div",
    { class: compact ? "outputs compact" : "outputs" },
    task.outputs.map((output, n) => outputView(task, output, { caption: !compact || n === 0 })),
    task.outputs.some((o) => !o.archived) ? h("p", { class: "muted small" }, t("tasks.archiving")) : null,
  );
}

// Only web links (ours are relative): a javascript: or data: link from upstream is not followed.
function webLink(url) {
  return typeof url === "string" && /^(\/(?!\/)|https?:\/\/)/i.test(url) ? url : null;
}

const KIND_ICONS = { audio: "♪", text: "¶", file: "⬡" };

export function outputView(task, output, { caption = true } = {}) {
  const url = webLink(output.url) || webLink(output.source_url);
  const type = (output.type || "").toLowerCase();
  const name = downloadName(task, output, url);
  const download = url
    ? h("a", { class: "download", href: url, download: name }, t("tasks.download"))
    : null;
  const share = webLink(output.url) ? shareButton(output.url) : null;
  let media;
  let kind;
  if (output.text !== null && output.text !== undefined) {
    kind = "text";
    media = h("pre", { class: "output-text" }, output.text);
  } else if (IMAGE.has(type) && url) {
    kind = "image";
    media = h(
      "button",
      { type: "button", class: "thumb", "aria-label": t("tasks.open"), onclick: () => openViewer(url, "image", name) },
      h("img", { src: url, alt: `${t("tasks.open")} ${name}`, loading: "lazy" }),
    );
  } else if (VIDEO.has(type) && url) {
    kind = "video";
    media = h("video", { src: url, controls: true, playsinline: true, preload: "metadata", "aria-label": t("output.video") });
  } else if (AUDIO.has(type) && url) {
    kind = "audio";
    media = h("audio", { src: url, controls: true, preload: "metadata", "aria-label": t("output.audio") });
  } else {
    kind = "file";
    media = h("span", { class: "file-chip" }, `${t("output.file")} · ${type.toUpperCase()}`);
  }
  const icon = KIND_ICONS[kind] ? h("span", { class: "kind-icon", "aria-hidden": "true" }, KIND_ICONS[kind]) : null;
  return h(
    "figure",
    { class: `output output-${type}`, dataset: { type, kind, index: String(output.index) } },
    icon,
    media,
    caption && (download || share) ? h("figcaption", {}, share, download) : null,
  );
}

function openViewer(url, kind, name) {
  const dialog = document.getElementById("viewer");
  const body = dialog.querySelector(".viewer-body");
  body.replaceChildren(kind === "image" ? h("img", { src: url, alt: name }) : h("video", { src: url, controls: true }));
  const link = document.getElementById("viewer-download");
  link.href = url;
  link.setAttribute("download", name);
  link.textContent = t("tasks.download");
  document.getElementById("viewer-close").textContent = t("viewer.close");
  dialog.showModal();
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
