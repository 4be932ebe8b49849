// The API key, authenticated fetches and the role check every page starts with.
import { h } from "./util.js";

const KEY = "calmline.key";

/** The page each role lands on after signing in. */
export const ROLE_HOME = {
  agent: "/feedback",
  supervisor: "/dashboard",
  qa_lead: "/review",
  admin: "/review",
};

/** Roles allowed on each page; the API enforces the same rules on the data behind it. */
export const PAGE_ROLES = {
  dashboard: ["admin", "qa_lead", "supervisor"],
  review: ["admin", "qa_lead", "supervisor"],
  feedback: ["agent", "admin", "qa_lead", "supervisor"],
};

const PAGE_NAMES = { dashboard: "the supervisor dashboard", review: "QA review", feedback: "agent feedback" };

export const getKey = () => sessionStorage.getItem(KEY);
export const setKey = (key) => sessionStorage.setItem(KEY, key);
export const clearKey = () => sessionStorage.removeItem(KEY);

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

function url(path, params) {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== null && v !== undefined && v !== "") u.searchParams.set(k, v);
  }
  return u;
}

/** GET (or another method) an API path with the key in X-API-Key; JSON back, ApiError on failure. */
export async function api(path, { params, method = "GET", key = getKey(), raw = false } = {}) {
  let response;
  try {
    response = await fetch(url(path, params), {
      method,
      headers: { "X-API-Key": key || "", Accept: "application/json" },
    });
  } catch (e) {
    throw new ApiError(0, `the server cannot be reached (${e.message})`);
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body && body.detail) detail = body.detail;
    } catch {
      /* not JSON: keep the status line */
    }
    throw new ApiError(response.status, detail);
  }
  return raw ? response : response.json();
}

/** A same-origin URL carrying the key as ?key= (for <audio> and EventSource, which send no headers). */
export function keyedUrl(path, params) {
  return url(path, { ...params, key: getKey() }).toString();
}

/** Download an API file (export) with the key in a header, not in the URL. */
export async function download(path, filename) {
  const response = await api(path, { raw: true });
  const blob = await response.blob();
  const a = h("a", { href: URL.createObjectURL(blob), download: filename });
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}

function signinUrl(reason) {
  const next = location.pathname + location.search;
  const u = new URL("/signin", location.origin);
  u.searchParams.set("next", next);
  if (reason) u.searchParams.set("reason", reason);
  return u.pathname + u.search;
}

function renderHeader(me, page) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  if (!nav || !who) return;
  const links = [];
  if (PAGE_ROLES.dashboard.includes(me.role)) links.push(["dashboard", "/dashboard", "Dashboard"]);
  if (PAGE_ROLES.review.includes(me.role)) links.push(["review", "/review", "QA review"]);
  if (me.role === "agent") links.push(["feedback", "/feedback", "My feedback"]);
  nav.replaceChildren(
    ...links.map(([name, href, label]) =>
      h("a", { href, class: name === page ? "current" : null }, label),
    ),
  );
  const label = me.role === "agent" ? `agent ${me.agent_id}` : me.role.replace("_", " ");
  who.replaceChildren(
    h("span", { "data-testid": "whoami" }, `Signed in: ${label}`),
    h("button", { type: "button", onclick: signOut }, "Sign out"),
  );
}

export function signOut() {
  clearKey();
  location.assign("/signin");
}

/** Replace the page's main content with a refusal (the role may not use this page or call). */
export function showRefusal(title, message, me) {
  const main = document.querySelector("main");
  const home = me && ROLE_HOME[me.role];
  main.replaceChildren(
    h(
      "section",
      { class: "refusal", role: "alert", "data-testid": "refusal" },
      h("h2", {}, title),
      h("p", {}, message),
      home ? h("p", {}, h("a", { href: home }, "Go to your page")) : null,
    ),
  );
}

/** Show an API failure: a 403 as a refusal, anything else as an error in `where` (or main). */
export function showError(error, me, where) {
  if (error instanceof ApiError && error.status === 403) {
    showRefusal("Not allowed", `The server refused this: ${error.detail}.`, me);
    return;
  }
  if (error instanceof ApiError && error.status === 401) {
    clearKey();
    location.replace(signinUrl("expired"));
    return;
  }
  const box = h("div", { class: "error", role: "alert" }, error.detail || error.message || String(error));
  if (where) where.replaceChildren(box);
  else document.querySelector("main").prepend(box);
}

/**
 * Start a page: check there is a key, ask the server whose it is, draw the header and refuse
 * roles the page is not for. Returns the principal ({role, agent_id, key_id}) or null.
 */
export async function startPage(page) {
  if (!getKey()) {
    location.replace(signinUrl());
    return null;
  }
  let me;
  try {
    me = await api("/api/v1/me");
  } catch (e) {
    if (e.status === 401) {
      clearKey();
      location.replace(signinUrl("expired"));
    } else {
      showError(e);
    }
    return null;
  }
  document.body.dataset.role = me.role;
  renderHeader(me, page);
  if (!PAGE_ROLES[page].includes(me.role)) {
    showRefusal(
      "Not available to your key",
      `${PAGE_NAMES[page][0].toUpperCase()}${PAGE_NAMES[page].slice(1)} is not open to ` +
        `${me.role.replace("_", " ")} keys` +
        (me.role === "agent" ? "; agents see their own calls on their feedback page." : "."),
      me,
    );
    return null;
  }
  return me;
}
