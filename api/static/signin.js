// Sign-in: check the key with GET /api/v1/me, keep it in sessionStorage, go to the role's page.
import { api, clearKey, getKey, PAGE_ROLES, ROLE_HOME, setKey } from "./api.js";
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
    const me = await api("/api/v1/me", { key });
    setKey(key);
    location.replace(target(me.role));
  } catch (e) {
    clearKey();
    say(e.status === 401 ? "This key is not known to the server." : `Sign-in failed: ${e.detail}`);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = form.key.value.trim();
  if (key) signIn(key);
});

if (params.get("reason") === "expired") say("Your key was not accepted; sign in again.", "notice");
else if (getKey()) signIn(getKey());
