import { useEffect, useRef } from "preact/hooks";
import { formOf } from "../lib/form";
import { t } from "../lib/i18n";
import { changePassword, rename, setPreviews, settingsOpen } from "../models/account";
import { me } from "../models/app";
import { pushOn, setPush } from "../models/pwa";
import { BlockedList } from "./BlockedList";
import { DeleteAccount } from "./DeleteAccount";
import { Outcome, useOutcome } from "./Outcome";
import { SessionList } from "./SessionList";

/** Closes the settings and gives the focus back to the side bar's button that opened them. */
export function closeSettings(): void {
  settingsOpen.value = false;
  requestAnimationFrame(() => document.getElementById("open-settings")?.focus());
}

/** Account settings, in place of the conversation: name, password, sessions, blocks, deletion. */
export function Settings() {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <main class="main settings" aria-labelledby="settings-title" onKeyDown={(e) => { if (e.key === "Escape") { e.preventDefault(); closeSettings(); } }}>
      <header class="conv-head">
        <button type="button" class="ghost back" aria-label={t("closeSettings")} onClick={closeSettings}>‹</button>
        <h2 id="settings-title" class="grow" tabIndex={-1} ref={heading}>{t("settingsTitle")}</h2>
        <button type="button" class="ghost" onClick={closeSettings}>{t("close")}</button>
      </header>
      <div class="settings-body">
        <NameForm />
        <PasswordForm />
        <NotificationSettings />
        <SessionList />
        <BlockedList />
        <DeleteAccount />
      </div>
    </main>
  );
}

function NameForm() {
  const { ok, error, run } = useOutcome();
  function submit(e: SubmitEvent) {
    const f = formOf(e);
    if (f) void run(() => rename(f.get("name")), t("nameSaved"));
  }
  return (
    <section aria-labelledby="set-name">
      <h3 id="set-name">{t("yourName")}</h3>
      <form class="stack" onSubmit={submit}>
        <label>
          {t("displayName")}
          <input name="name" required maxLength={64} defaultValue={me.value?.name ?? ""} autoComplete="nickname" />
        </label>
        <button type="submit">{t("saveName")}</button>
        <Outcome ok={ok.value} error={error.value} />
      </form>
    </section>
  );
}

/** Push on this device (asked for only here, or from the side bar, never on load), and whether pushes show text. */
function NotificationSettings() {
  const { error, run } = useOutcome();
  // A refused change puts the box back as it was.
  const change = (set: (on: boolean) => Promise<void>, was: boolean) => (e: { currentTarget: HTMLInputElement }) => {
    const box = e.currentTarget;
    void run(() => set(box.checked)).then((ok) => { if (!ok) box.checked = was; });
  };
  return (
    <section aria-labelledby="set-notify">
      <h3 id="set-notify">{t("notifySection")}</h3>
      <label class="check">
        <input type="checkbox" checked={pushOn.value} disabled={typeof PushManager === "undefined"} onChange={change(setPush, pushOn.value)} />
        {t("pushDevice")}
      </label>
      <label class="check">
        <input type="checkbox" checked={me.value?.previews !== false} onChange={change(setPreviews, me.value?.previews !== false)} />
        {t("previews")}
      </label>
      <Outcome ok="" error={error.value} />
    </section>
  );
}

function PasswordForm() {
  const { ok, error, run } = useOutcome();
  async function submit(e: SubmitEvent) {
    const f = formOf(e);
    if (f && (await run(() => changePassword(f.get("current"), f.get("password")), t("passwordChanged")))) f.form.reset();
  }
  return (
    <section aria-labelledby="set-password">
      <h3 id="set-password">{t("passwordSection")}</h3>
      <form class="stack" onSubmit={submit}>
        <label>
          {t("currentPassword")}
          <input name="current" type="password" required maxLength={200} autoComplete="current-password" />
        </label>
        <label>
          {t("newPassword")}
          <input name="password" type="password" required minLength={8} maxLength={200} autoComplete="new-password" />
        </label>
        <button type="submit">{t("changePassword")}</button>
        <Outcome ok={ok.value} error={error.value} />
      </form>
    </section>
  );
}
