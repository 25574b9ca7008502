import { useSignal } from "@preact/signals";
import { ApiFailure } from "../lib/api";
import { t } from "../lib/i18n";
import { invite, leaveRoom } from "../models/app";
import { panel } from "../models/compose";
import type { ConversationSession } from "../models/session";
import { Avatar } from "./Avatar";

export function MembersPanel({ s }: { s: ConversationSession }) {
  const note = useSignal("");
  const members = [...s.model.members.value].sort((a, b) => Number(b.online) - Number(a.online) || a.username.localeCompare(b.username));
  const room = s.model.summary.value?.kind === "room";

  async function leave() {
    if (!confirm(t("confirmLeave"))) return;
    try {
      await leaveRoom(s.id);
      panel.value = null;
    } catch {
      note.value = t("errorGeneric");
    }
  }

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const form = e.currentTarget;
    if (!(form instanceof HTMLFormElement)) return;
    const name = String(new FormData(form).get("username") ?? "");
    try {
      await invite(name);
      note.value = t("invited", { name });
      form.reset();
    } catch (err) {
      note.value = err instanceof ApiFailure && err.status === 404 ? t("errorNoUser") : t("errorGeneric");
    }
  }

  return (
    <aside class="panel" aria-label={t("members")}>
      <div class="panel-head">
        <h3>{t("members")}</h3>
        <button type="button" class="ghost" aria-label={t("close")} onClick={() => { panel.value = null; }}>×</button>
      </div>
      <ul class="members">
        {members.map((m) => (
          <li key={m.username} data-member={m.username} data-online={m.online ? "yes" : "no"}>
            <Avatar name={m.name} online={m.online} small />
            <span class="grow">{m.name}{m.username === s.model.me ? ` (${t("you")})` : ""}</span>
            <span class="muted small">{m.online ? t("online") : t("offlineStatus")}</span>
          </li>
        ))}
      </ul>
      {room && (
        <form class="invite" onSubmit={submit}>
          <label>
            {t("inviteLabel")}
            <input name="username" required maxLength={32} />
          </label>
          <button type="submit">{t("invite")}</button>
          {note.value && <p class="small" role="status">{note.value}</p>}
          <p class="muted small">{t("roomIdIs")} <code>{s.id}</code></p>
        </form>
      )}
      {room && (
        <div class="leave">
          <button type="button" class="secondary danger" onClick={() => void leave()}>{t("leaveRoom")}</button>
        </div>
      )}
    </aside>
  );
}
