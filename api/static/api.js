// Sign-in, authenticated fetches and the role check every page starts with.
// The key is sent once, to POST /api/v1/session; from then on the browser carries an HttpOnly,
// SameSite=Strict session cookie (scripts cannot read it), also for <audio> and EventSource.
// The key is never kept in the browser and never put in a URL.
import { t } from "./i18n.js";
import { h } from "./util.js";

/** Sent with every API request: the server requires it on state-changing cookie requests. */
const CSRF_HEADER = "X-Calmline-Request";

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

/** Page and role names in the interface language, for refusals. */
const pageName = (page) => (t(`page.${page}`) === `page.${page}` ? page : t(`page.${page}`));
const roleName = (role) => t(`role.${role}`);

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

/** GET (or another method) an API path with the session cookie; JSON back (null for 204),
 * ApiError on failure. `body` is sent as JSON. */
export async function api(path, { params, method = "GET", body, raw = false } = {}) {
  let response;
  const headers = { Accept: "application/json", [CSRF_HEADER]: "1" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    response = await fetch(url(path, params), {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
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
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

/** A same-origin API URL for <audio> and EventSource: the session cookie authenticates it. */
export function apiUrl(path, params) {
  return url(path, params).toString();
}

/** Exchange an API key for the session cookie; resolves to the principal ({role, …}). */
export function signInWithKey(key) {
  return api("/api/v1/session", { method: "POST", body: { key } });
}

/** Download an API file (export) with the session cookie. */
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
  if (PAGE_ROLES.dashboard.includes(me.role)) links.push(["dashboard", "/dashboard", t("nav.dashboard")]);
  if (PAGE_ROLES.review.includes(me.role)) links.push(["review", "/review", t("nav.review")]);
  if (me.role === "agent") links.push(["feedback", "/feedback", t("nav.feedback")]);
  nav.replaceChildren(
    ...links.map(([name, href, label]) =>
      h("a", { href, class: name === page ? "current" : null }, label),
    ),
  );
  const label = me.role === "agent" ? t("who.agent", { id: me.agent_id }) : roleName(me.role);
  who.replaceChildren(
    h("span", { "data-testid": "whoami" }, t("who.signed_in", { label })),
    h("button", { type: "button", onclick: signOut }, t("who.sign_out")),
  );
}

/** Set once the user signs out: a request of this page that fails with 401 afterwards (its
 * session is gone) must not send the browser to "session expired" instead of the sign-in page. */
let signingOut = false;

export async function signOut() {
  signingOut = true;
  try {
    await api("/api/v1/session", { method: "DELETE" });
  } catch {
    /* signed out already, or the server is gone: the sign-in page follows anyway */
  }
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
      home ? h("p", {}, h("a", { href: home }, t("refusal.home"))) : null,
    ),
  );
}

/** Show an API failure: a 403 as a refusal, anything else as an error in `where` (or main). */
export function showError(error, me, where) {
  if (error instanceof ApiError && error.status === 403) {
    showRefusal(t("refusal.not_allowed"), t("refusal.refused", { detail: error.detail }), me);
    return;
  }
  if (error instanceof ApiError && error.status === 401) {
    if (!signingOut) location.replace(signinUrl("expired"));
    return;
  }
  const box = h("div", { class: "error", role: "alert" }, error.detail || error.message || String(error));
  if (where) where.replaceChildren(box);
  else document.querySelector("main").prepend(box);
}

/**
 * Start a page: ask the server whose session this is, draw the header and refuse roles the page
 * is not for. Returns the principal ({role, agent_id, key_id}) or null.
 */
export async function startPage(page) {
  let me;
  try {
    me = await api("/api/v1/me");
  } catch (e) {
    if (e.status === 401) {
      if (!signingOut) location.replace(signinUrl());
    } else {
      showError(e);
    }
    return null;
  }
  document.body.dataset.role = me.role;
  renderHeader(me, page);
  if (!PAGE_ROLES[page].includes(me.role)) {
    showRefusal(
      t("refusal.not_available"),
      t(me.role === "agent" ? "refusal.page_closed_agent" : "refusal.page_closed", { page: pageName(page), role: roleName(me.role) }),
      me,
    );
    return null;
  }
  return me;
}
