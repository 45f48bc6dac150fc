/** Requests to the `/v1` API: the API key header, one retry after asking for a key, and
 * problem+json errors turned into `ApiError("title: detail")`. */

import { askForKey, keyHeaders, storedKey } from "./auth.js";

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

const MAX_TRIES = 3;

/** `fetch` a path relative to the page (e.g. `v1/jobs`); resolves to the OK Response. */
export async function request(path, { method = "GET", json, accept = "application/json" } = {}) {
  for (let tries = 1; ; tries++) {
    const sentKey = storedKey();
    const headers = { Accept: accept, ...keyHeaders() };
    if (json !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    if (response.status === 401 && tries < MAX_TRIES) {
      // another request may already have saved a new key while this one was in flight
      if (storedKey() !== sentKey || (await askForKey({ rejected: sentKey !== null }))) continue;
    }
    if (!response.ok) throw await problem(response);
    return response;
  }
}

export async function getJson(path) {
  return (await request(path)).json();
}

export async function postJson(path, json) {
  return (await request(path, { method: "POST", json })).json();
}

async function problem(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: fall back to the status line
  }
  if (body && typeof body.detail === "string") {
    return new ApiError(response.status, body.title || `HTTP ${response.status}`, body.detail);
  }
  return new ApiError(response.status, `HTTP ${response.status}`, response.statusText);
}
