// The studio's entry point: sign-in, the header, the language switch and a hash router.
//   #/            studio, with a default text-to-image model
//   #/m/<id>      studio with the model <id> (ids contain slashes: the rest of the hash is the id)
//   #/history     history and gallery
//   #/task/<id>   one task in full: params, outputs, deliveries
//   #/compare/<id>,<id>,…  tasks side by side

import { ApiError, api, token, whenUnauthorized } from "./api.js";
import { compareView, taskView } from "./detail.js";
import { h } from "./dom.js";
import { historyView } from "./history.js";
import { lang, pick, setLang, t } from "./i18n.js";
import { studioView } from "./studio.js";

const main = document.getElementById("main");
const state = {
  catalog: null, // {models, byId}
  health: null,
  prefill: null, // {model, params}: "run again" hands a past task's params to the form
  filters: { model: "", status: "" },
  current: null, // what the studio view returned: its form, to keep values across a re-render
  signInProblem: "",
  signingIn: false,
  routes: 0, // counts route() calls, so that a slow one cannot overwrite a newer one's state
};

function titleOf(modelId) {
  const model = state.catalog?.byId.get(modelId);
  return model ? pick(model.title) : modelId;
}

function runAgain(task) {
  state.prefill = { model: task.model, params: task.params };
  const target = `#/m/${task.model}`;
  if (location.hash === target) route();
  else location.hash = target;
}

function header() {
  const nav = document.getElementById("nav");
  const here = /^#\/(history|task\/|compare\/)/.test(location.hash) ? "history" : "studio";
  const signedIn = Boolean(token.get());
  nav.replaceChildren(
    ...(signedIn
      ? [
          h("a", { href: "#/", "aria-current": here === "studio" ? "page" : undefined }, t("nav.studio")),
          h("a", { href: "#/history", "aria-current": here === "history" ? "page" : undefined }, t("nav.history")),
        ]
      : []),
  );
  const out = document.getElementById("sign-out");
  out.hidden = !signedIn;
  out.textContent = t("sign.out");
  document.getElementById("lang").value = lang();
  document.querySelector(".skip-link").textContent = lang() === "zh" ? "跳到主要内容" : "Skip to content";
  const banner = document.getElementById("banner");
  banner.hidden = !state.health?.demo;
  banner.textContent = state.health?.demo ? t("demo.banner") : "";
}

function signInView(problem) {
  const input = h("input", {
    type: "password",
    id: "token",
    name: "token",
    autocomplete: "current-password",
    spellcheck: false,
    "aria-describedby": "token-problem token-how",
    "aria-invalid": problem ? "true" : undefined,
  });
  const message = h("p", { class: "form-error", id: "token-problem", role: "alert", hidden: !problem }, problem || "");
  const button = h("button", { type: "submit", class: "primary" }, t("sign.submit"));
  const form = h(
    "form",
    {
      class: "sign-in",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        const value = input.value.trim();
        if (!value) return signInView(t("sign.missing"));
        button.disabled = true;
        token.set(value);
        state.signingIn = true;
        try {
          // Any authenticated read proves the token; this one is small.
          await api.tasks({ limit: 1 });
          // A fresh page: nothing of a previous user's session (live tasks, filters) carries over.
          location.reload();
        } catch (error) {
          token.clear();
          const text =
            error instanceof ApiError && error.status === 401
              ? t("sign.wrong")
              : error.status === 0
                ? t("error.network")
                : t("error.generic", { msg: error.message });
          signInView(text);
        } finally {
          state.signingIn = false;
        }
      },
    },
    h("h1", {}, t("sign.title")),
    h("p", {}, t("sign.lead")),
    h("label", { for: "token" }, t("sign.token")),
    input,
    message,
    button,
    h("p", { class: "muted small", id: "token-how" }, t("sign.how")),
  );
  header();
  main.replaceChildren(form);
  input.focus();
}

async function loadCatalog() {
  if (state.catalog) return state.catalog;
  const { models } = await api.models();
  state.catalog = { models, byId: new Map(models.map((m) => [m.id, m])) };
  return state.catalog;
}

async function route() {
  state.routes += 1;
  const mine = state.routes;
  if (!token.get()) return signInView(state.signInProblem);
  header();
  try {
    const catalog = await loadCatalog();
    const hash = decodeURIComponent(location.hash.slice(1));
    // A view that follows its task stops when another one takes the page.
    main.viewToken = null;
    main.stopView?.();
    main.stopView = null;
    if (hash.startsWith("/task/")) {
      state.current = null;
      await taskView(main, { id: hash.slice(6), titleOf, runAgain });
      return;
    }
    if (hash.startsWith("/compare/")) {
      state.current = null;
      await compareView(main, { ids: hash.slice(9).split(",").filter(Boolean), titleOf });
      return;
    }
    if (hash.startsWith("/history")) {
      state.current = null;
      await historyView(main, { catalog, titleOf, runAgain, filters: state.filters });
      document.title = `${t("nav.history")} · aipaint studio`;
      return;
    }
    const modelId = hash.startsWith("/m/") ? hash.slice(3) : null;
    const prefill = state.prefill;
    state.prefill = null;
    const shown = await studioView(main, { catalog, modelId, prefill, titleOf, runAgain });
    // Models picked in quick succession: only the last one's form is the one on the page.
    if (mine === state.routes) state.current = shown;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    main.replaceChildren(
      h("p", { class: "form-error", role: "alert" }, error.status === 0 ? t("error.network") : t("error.generic", { msg: error.message })),
    );
  }
}

whenUnauthorized(() => {
  if (!token.get() || state.signingIn) return;
  token.clear();
  state.signInProblem = t("sign.expired");
  signInView(state.signInProblem);
});

document.getElementById("sign-out").addEventListener("click", () => {
  token.clear();
  location.hash = "";
  location.reload();
});

document.getElementById("lang").addEventListener("change", (event) => {
  // Keep what the user typed: the form is rebuilt in the new language with the same values.
  const current = state.current;
  if (current?.form && current.model) state.prefill = { model: current.model.id, params: current.form.values() };
  setLang(event.target.value);
  if (token.get()) route();
  else signInView(state.signInProblem);
});

window.addEventListener("hashchange", () => route());

api
  .health()
  .then((health) => {
    state.health = health;
    header();
  })
  .catch(() => {});
route();
