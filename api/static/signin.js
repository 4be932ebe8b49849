// Sign-in: the key goes to POST /api/v1/session, which sets the session cookie; then the role's
// page. The key is not kept in the browser.
import { api, PAGE_ROLES, ROLE_HOME, signInWithKey } from "./api.js";
import { t } from "./i18n.js";
import { h } from "./util.js";

const form = document.getElementById("signin-form");
const message = document.getElementById("message");
const params = new URLSearchParams(location.search);

function say(text, cls = "error") {
  message.replaceChildren(h("div", { class: cls, role: "alert" }, text));
}

/** The page to open: `next` when the role may use it, else the role's own page. */
function target(role) {
  const next = params.get("next");
  if (next && next.startsWith("/") && !next.startsWith("//")) {
    const page = next.split(/[/?#]/)[1];
    if (PAGE_ROLES[page] && PAGE_ROLES[page].includes(role)) return next;
  }
  return ROLE_HOME[role] || "/review";
}

async function signIn(key) {
  try {
    const me = await signInWithKey(key);
    form.key.value = "";
    location.replace(target(me.role));
  } catch (e) {
    say(e.status === 401 ? t("signin.unknown_key") : t("signin.failed", { detail: e.detail }));
  }
}

/** Already signed in (a valid session cookie): go on without asking for the key. */
async function resume() {
  try {
    const me = await api("/api/v1/me");
    location.replace(target(me.role));
  } catch {
    /* not signed in: the form stays */
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = form.key.value.trim();
  if (key) signIn(key);
});

if (params.get("reason") === "expired") say(t("signin.expired"), "notice");
else resume();
