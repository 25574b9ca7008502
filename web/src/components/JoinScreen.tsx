import { useSignal } from "@preact/signals";
import { useLayoutEffect, useRef } from "preact/hooks";
import { t } from "../lib/i18n";
import { refusal } from "../lib/refusal";
import { joinRoom, pendingJoin } from "../models/app";

/** Opened from an invite link to a room I am not in: join it, or not. */
export function JoinScreen({ id, token }: { id: string; token?: string }) {
  const error = useSignal("");
  const button = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => button.current?.focus(), []);

  async function join() {
    error.value = "";
    try {
      await joinRoom(id, token);
    } catch (err) {
      error.value = refusal(err, { 403: token ? "inviteDead" : "joinPrivate" });
    }
  }

  function cancel() {
    pendingJoin.value = null;
    history.replaceState(null, "", location.pathname);
  }

  return (
    <main class="main empty-main" aria-labelledby="join-title">
      <div class="card join-card">
        <h2 id="join-title">{t("joinInvited")}</h2>
        <p class="muted small">{t("roomIdIs")} <code>{id}</code></p>
        {error.value && <p class="error small" role="alert">{error.value}</p>}
        <div class="row">
          <button type="button" ref={button} onClick={() => void join()}>{t("join")}</button>
          <button type="button" class="secondary" onClick={cancel}>{t("cancel")}</button>
        </div>
      </div>
    </main>
  );
}
