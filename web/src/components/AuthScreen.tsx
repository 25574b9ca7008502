import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";
import { ApiFailure } from "../lib/api";
import { t } from "../lib/i18n";
import { signedOutWhy, signIn, type SignedOutWhy } from "../models/app";
import { LangSwitch } from "./LangSwitch";

/** What the sign-in screen says when the app came back to it by itself. */
const WHY = { revoked: "signedOutRevoked", erased: "signedOutErased", ended: "signedOutEnded" } as const satisfies Record<SignedOutWhy, string>;

/**
 * Sign in, or (after "Create an account") sign up: two clearly separate forms, one submit button
 * each, so Enter does what the screen says. New people are not offered "Wrong password".
 */
export function AuthScreen() {
  const mode = useSignal<"login" | "signup">("login");
  const error = useSignal("");
  const busy = useSignal(false);
  const first = useRef<HTMLInputElement>(null);
  const signup = mode.value === "signup";

  function switchMode() {
    mode.value = signup ? "login" : "signup";
    error.value = "";
    first.current?.focus();
  }

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const form = e.currentTarget;
    if (!(form instanceof HTMLFormElement)) return;
    const data = new FormData(form);
    busy.value = true;
    error.value = "";
    try {
      await signIn(mode.value, String(data.get("username") ?? ""), String(data.get("password") ?? ""), String(data.get("name") ?? ""));
    } catch (err) {
      error.value = err instanceof ApiFailure ? authError(err) : t("errorGeneric");
    } finally {
      busy.value = false;
    }
  }

  return (
    <main class="auth">
      <form class="card" onSubmit={submit} aria-labelledby="auth-title" data-mode={mode.value}>
        <div class="auth-head">
          <h1 id="auth-title">{signup ? t("signUpTitle") : t("appName")}</h1>
          <LangSwitch />
        </div>
        <p class="muted">{t("tagline")}</p>
        {/* Signed out by something the person did not do here: say what, before anything else. */}
        {signedOutWhy.value && !error.value && (
          <p class="notice" role="alert" data-testid="signed-out-why">{t(WHY[signedOutWhy.value])}</p>
        )}
        <label>
          {t("username")}
          <input name="username" ref={first} autocomplete="username" required minLength={3} maxLength={32} pattern="[A-Za-z0-9_\-]+" />
        </label>
        <label>
          {t("password")}
          <input name="password" type="password" autocomplete={signup ? "new-password" : "current-password"} required minLength={8} maxLength={200} />
        </label>
        {signup && (
          <>
            <label>
              {t("displayName")}
              <input name="name" autocomplete="nickname" maxLength={64} aria-describedby="name-hint" />
            </label>
            <p id="name-hint" class="muted small hint">{t("displayNameHint")}</p>
          </>
        )}
        {error.value && <p class="error" role="alert">{error.value}</p>}
        <button type="submit" disabled={busy.value}>{signup ? t("signUp") : t("signIn")}</button>
        <button type="button" class="link" onClick={switchMode}>{signup ? t("toSignIn") : t("toSignUp")}</button>
        {signup && <p class="muted small">{t("usernameRules")}</p>}
      </form>
    </main>
  );
}

function authError(err: ApiFailure): string {
  if (err.status === 401) return t("errorLogin");
  if (err.status === 409) return t("errorTaken");
  if (err.status === 429) return t("errorTooMany");
  if (err.status === 0) return t("errorNetwork");
  if (err.status === 400) return t("errorInvalid");
  return t("errorGeneric");
}
