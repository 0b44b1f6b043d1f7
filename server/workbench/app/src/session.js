// Who is logged in. One login for the whole workbench: the token lives in localStorage so a
// second tab (a PDF, the map beside the cases) needs no second login; 退出 revokes it on the
// server and forgets it here.
import { reactive } from "vue";

const KEY = "nol-workbench";

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "null");
    if (saved && saved.token && saved.expires_at && new Date(saved.expires_at) > new Date()) return saved;
  } catch (_) { /* a damaged entry is the same as none */ }
  return null;
}

const saved = load();
export const session = reactive({
  token: saved ? saved.token : null,
  expires_at: saved ? saved.expires_at : null,
  person: saved ? saved.person : null,
  villageCodes: saved ? saved.villageCodes : null,
});

export function remember({ token, expires_at, person, villageCodes }) {
  Object.assign(session, { token, expires_at, person, villageCodes: villageCodes ?? null });
  localStorage.setItem(KEY, JSON.stringify({ token, expires_at, person, villageCodes: villageCodes ?? null }));
}

export function forget() {
  Object.assign(session, { token: null, expires_at: null, person: null, villageCodes: null });
  localStorage.removeItem(KEY);
}

export const loggedIn = () => Boolean(session.token);
export const role = () => (session.person ? session.person.role : null);
