// The aipaint HTTP API as the studio uses it: bearer token, negotiated language, typed errors.

import { acceptLanguage } from "./i18n.js";

const TOKEN_KEY = "aipaint.token";

export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const token = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (value) => localStorage.setItem(TOKEN_KEY, value),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

// Called when the server refuses the token (401): the app shows the sign-in page.
let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

function headers(extra = {}) {
  const result = { "Accept-Language": acceptLanguage(), ...extra };
  const value = token.get();
  if (value) result.Authorization = `Bearer ${value}`;
  return result;
}

export async function request(method, path, { json, form, headers: extra, signal } = {}) {
  const init = { method, headers: headers(extra), signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", error.message);
  }
  if (response.status === 401) onUnauthorized();
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = body && body.error ? body.error : {};
    throw new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message || response.statusText,
      error.details || [],
    );
  }
  return body;
}

export const api = {
  health: () => request("GET", "/healthz"),
  models: () => request("GET", "/v1/models"),
  model: (id) => request("GET", `/v1/models/${id}`),
  estimate: (model, params, signal) =>
    request("POST", "/v1/estimates", { json: { model, params }, signal }),
  submit: (model, params, idempotencyKey) =>
    request("POST", "/v1/tasks", {
      json: { model, params },
      headers: { "Idempotency-Key": idempotencyKey },
    }),
  task: (id) => request("GET", `/v1/tasks/${encodeURIComponent(id)}`),
  tasks: ({ status, model, limit = 20, cursor } = {}) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (status) query.set("status", status);
    if (model) query.set("model", model);
    if (cursor) query.set("cursor", cursor);
    return request("GET", `/v1/tasks?${query}`);
  },
  cancel: (id) => request("POST", `/v1/tasks/${encodeURIComponent(id)}/cancel`),
  deliveries: (id) => request("GET", `/v1/tasks/${encodeURIComponent(id)}/deliveries`),
  retryDelivery: (id, deliveryId) =>
    request(
      "POST",
      `/v1/tasks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}/retry`,
    ),
  runTimes: (model) => request("GET", `/v1/run-times?${new URLSearchParams({ model })}`),
  upload: (file, model, param) => {
    // The fields before the file: the server applies the param's size limit as the file arrives.
    const form = new FormData();
    form.append("model", model);
    form.append("param", param);
    form.append("file", file);
    return request("POST", "/v1/uploads", { form });
  },
};

// Follow a task's Server-Sent Events. fetch, not EventSource: EventSource cannot send the
// Authorization header, and a token in the URL would end up in logs.
export async function followEvents(taskId, onTask, signal) {
  const response = await fetch(`/v1/tasks/${encodeURIComponent(taskId)}/events`, {
    headers: headers({ Accept: "text/event-stream" }),
    signal,
  });
  if (response.status === 401) onUnauthorized();
  if (!response.ok || !response.body) throw new ApiError(response.status, "events", "no stream");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) onTask(JSON.parse(data));
    }
  }
}
