// Staff sign-in shared by the clerk console and the admin pages: the token lives in
// sessionStorage (gone when the browser tab closes), never in the URL.
import { api, ApiError } from "./common.js";

const KEY = "madoguchi.staff";

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch (error) {
    return null;
  }
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  location.reload();
}

/** Wire a login form; resolves with the session once signed in with one of `roles`. */
export function signIn(form, messageNode, roles) {
  const current = session();
  if (current && roles.includes(current.role) && new Date(current.expires_at) > new Date()) {
    return Promise.resolve(current);
  }
  form.closest("section").hidden = false;
  return new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      messageNode.textContent = "";
      const data = new FormData(form);
      try {
        const answer = await api("/api/v1/auth/token", {
          method: "POST", form: { username: data.get("username"), password: data.get("password") },
        });
        if (!roles.includes(answer.role)) {
          messageNode.textContent = "この画面を使う権限がありません。";
          return;
        }
        const value = {
          token: answer.access_token, role: answer.role, expires_at: answer.expires_at,
          name: String(data.get("username")),
        };
        sessionStorage.setItem(KEY, JSON.stringify(value));
        form.closest("section").hidden = true;
        resolve(value);
      } catch (error) {
        messageNode.textContent = error instanceof ApiError && error.status === 401
          ? "ユーザー名またはパスワードが違います。" : "ログインできませんでした。";
      }
    });
  });
}

/** Sign out when the server says the token is no longer valid. */
export function guard(error) {
  if (error instanceof ApiError && error.status === 401) signOut();
  throw error;
}
