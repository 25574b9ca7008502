import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { roomsApi } from "../lib/api-rooms";
import { short, time } from "../lib/format";
import { t } from "../lib/i18n";
import { refusal } from "../lib/refusal";
import { invite, inviteLink, leaveRoom, networkUp } from "../models/app";
import { panel } from "../models/compose";
import type { ConversationSession } from "../models/session";
import { MemberRow } from "./MemberRow";
import { closeOnEscape } from "./SearchPanel";

export function MembersPanel({ s }: { s: ConversationSession }) {
  const note = useSignal("");
  // Cut off, nobody's presence is known (PROTOCOL: presence comes over the socket).
  const known = networkUp.value && s.state.value === "open";
  const members = [...s.model.members.value].sort((a, b) => Number(b.online) - Number(a.online) || a.username.localeCompare(b.username));
  const room = s.model.summary.value?.kind === "room";
  const myRole = s.model.summary.value?.role;
  // Anyone may join a public room by its link; a private one by an invite link (a token its admins
  // and owner make, expire and revoke) or an invitation by username.
  const open = room && s.model.summary.value?.private !== true;
  const manages = room && !open && myRole !== undefined && myRole !== "member";
  const links = useSignal<{ token: string; expires: number }[]>([]);
  const reload = () => roomsApi.invites(s.id).then((l) => { links.value = l; }, () => {});
  useEffect(() => { if (manages) void reload(); }, [manages, s.id]);

  async function copyLink() {
    let link = inviteLink(s.id);
    if (manages) {
      try {
        link = inviteLink(s.id, await roomsApi.makeInvite(s.id));
      } catch (err) {
        note.value = refusal(err);
        return;
      }
      void reload();
    }
    try {
      await navigator.clipboard.writeText(link);
      note.value = t("linkCopied");
    } catch {
      note.value = link; // no clipboard: show it, to be copied by hand
    }
  }

  async function revoke(token: string) {
    try {
      await roomsApi.revokeInvite(s.id, token);
    } catch (err) {
      note.value = refusal(err);
    }
    void reload();
  }

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
      // Usernames are stored in lower case: say it as it is stored, not as typed.
      note.value = t("invited", { name: name.trim().toLowerCase() });
      form.reset();
    } catch (err) {
      note.value = refusal(err, { 404: "errorNoUser" });
    }
  }

  return (
    <aside class="panel" aria-label={t("members")} onKeyDown={(e) => closeOnEscape(e, "toggle-members")}>
      <div class="panel-head">
        <h3>{t("members")}</h3>
        <button type="button" class="ghost" aria-label={t("close")} onClick={() => { panel.value = null; }}>×</button>
      </div>
      <ul class="members">
        {members.map((m) => (
          <MemberRow key={m.username} conv={s.id} member={m} me={s.model.me} myRole={myRole} room={room} onError={(text) => { note.value = text; }}
            online={known ? m.online || m.username === s.model.me : undefined} />
        ))}
      </ul>
      {note.value && !room && <p class="small" role="status">{note.value}</p>}
      {room && (
        <form class="invite" onSubmit={submit}>
          <label>
            {t("inviteLabel")}
            <input name="username" required maxLength={32} />
          </label>
          <button type="submit">{t("invite")}</button>
          {note.value && <p class="small" role="status">{note.value}</p>}
          {(open || manages) && <button type="button" class="secondary" onClick={() => void copyLink()}>{t("copyInviteLink")}</button>}
          {links.value.length > 0 && (
            <ul class="invite-links" aria-label={t("inviteLinks")}>
              {links.value.map((l) => (
                <li key={l.token}>
                  <span class="muted small">{t("linkUntil", { date: `${short(l.expires)} ${time(l.expires)}` })}</span>
                  <button type="button" class="ghost small" aria-label={`${t("revoke")}: ${t("linkUntil", { date: `${short(l.expires)} ${time(l.expires)}` })}`} onClick={() => void revoke(l.token)}>{t("revoke")}</button>
                </li>
              ))}
            </ul>
          )}
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
