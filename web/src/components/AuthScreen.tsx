import { useSignal } from "@preact/signals";
import { ApiFailure } from "../lib/api";
import { t } from "../lib/i18n";
import { signIn } from "../models/app";
import { LangSwitch } from "./LangSwitch";

/** Sign in or sign up: one form, two buttons. */
export function AuthScreen() {
  const error = useSignal("");
  const busy = useSignal(false);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const form = e.currentTarget;
    if (!(form instanceof HTMLFormElement)) return;
    const data = new FormData(form);
    const submitter = e.submitter;
    const kind = submitter instanceof HTMLButtonElement && submitter.value === "signup" ? "signup" : "login";
    busy.value = true;
    error.value = "";
    try {
      await signIn(kind, String(data.get("username") ?? ""), String(data.get("password") ?? ""), String(data.get("name") ?? ""));
    } catch (err) {
      error.value = err instanceof ApiFailure ? authError(err) : t("errorGeneric");
    } finally {
      busy.value = false;
    }
  }

  return (
    <main class="auth">
      <form class="card" onSubmit={submit} aria-labelledby="auth-title">
        <div class="auth-head">
          <h1 id="auth-title">{t("appName")}</h1>
          <LangSwitch />
        </div>
        <p class="muted">{t("tagline")}</p>
        <label>
          {t("username")}
          <input name="username" autocomplete="username" required minLength={3} maxLength={32} pattern="[A-Za-z0-9_\-]+" />
        </label>
        <label>
          {t("password")}
          <input name="password" type="password" autocomplete="current-password" required minLength={8} maxLength={200} />
        </label>
        <label>
          {t("displayName")}
          <input name="name" autocomplete="nickname" maxLength={64} aria-describedby="name-hint" />
        </label>
        <p id="name-hint" class="muted small hint">{t("displayNameHint")}</p>
        {error.value && <p class="error" role="alert">{error.value}</p>}
        <div class="row">
          <button type="submit" value="login" disabled={busy.value}>{t("signIn")}</button>
          <button type="submit" value="signup" class="secondary" disabled={busy.value}>{t("signUp")}</button>
        </div>
        <p class="muted small">{t("usernameRules")}</p>
      </form>
    </main>
  );
}

function authError(err: ApiFailure): string {
  if (err.status === 401) return t("errorLogin");
  if (err.status === 409) return t("errorTaken");
  if (err.status === 429) return t("errorTooMany");
  if (err.status === 0) return t("errorNetwork");
  return err.message || t("errorGeneric");
}
