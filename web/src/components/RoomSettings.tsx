import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { Summary } from "../../../protocol";
import { t } from "../lib/i18n";
import { formOf } from "../lib/form";
import { refusal } from "../lib/refusal";
import { panel } from "../models/compose";
import { bannedIn, deleteRoom, unbanMember, updateRoom } from "../models/moderation";
import { nameOf } from "../models/names";
import type { ConversationSession } from "../models/session";
import { closeOnEscape } from "./SearchPanel";
import { Outcome, useOutcome } from "./Outcome";

/** A room's settings for its admins and owner: title, topic, privacy, the ban list, and (owner) deletion. */
export function RoomSettings({ s, summary }: { s: ConversationSession; summary: Summary }) {
  const { ok, error, run } = useOutcome();
  const bans = useSignal<string[] | null>(null);

  const loadBans = () => bannedIn(s.id).then((list) => { bans.value = list; }, (err: unknown) => { error.value = refusal(err); });
  useEffect(() => { void loadBans(); }, [s.id]);

  function save(e: SubmitEvent) {
    const f = formOf(e);
    if (!f) return;
    const isPrivate = f.form.querySelector<HTMLInputElement>("input[name=private]")?.checked ?? false;
    void run(() => updateRoom(s.id, { title: f.get("title").trim(), topic: f.get("topic").trim(), private: isPrivate }), t("settingsSaved"));
  }

  function remove() {
    if (!confirm(t("confirmDeleteRoom"))) return;
    void run(async () => {
      await deleteRoom(s.id);
      panel.value = null;
    });
  }

  return (
    <aside class="panel" aria-label={t("roomSettings")} onKeyDown={(e) => closeOnEscape(e, "toggle-room")}>
      <div class="panel-head">
        <h3>{t("roomSettings")}</h3>
        <button type="button" class="ghost" aria-label={t("close")} onClick={() => { panel.value = null; }}>×</button>
      </div>
      <form class="stack pad" onSubmit={save}>
        <label>
          {t("roomTitle")}
          <input name="title" required maxLength={100} defaultValue={summary.title} />
        </label>
        <label>
          {t("topic")}
          <textarea name="topic" maxLength={500} rows={3} defaultValue={summary.topic ?? ""} />
        </label>
        <label class="check">
          <input type="checkbox" name="private" defaultChecked={summary.private === true} />
          {t("private")}
        </label>
        <button type="submit">{t("saveSettings")}</button>
      </form>
      <div class="pad">
        <Outcome ok={ok.value} error={error.value} />
      </div>
      <section class="pad" aria-labelledby="bans-title">
        <h4 id="bans-title">{t("bansSection")}</h4>
        {bans.value?.length === 0 && <p class="muted small">{t("noBans")}</p>}
        <ul class="bans">
          {bans.value?.map((u) => (
            <li key={u} data-banned={u}>
              <span class="grow">{nameOf(u)}</span>
              <button type="button" class="secondary small" aria-label={t("unbanNamed", { name: nameOf(u) })}
                onClick={() => void run(async () => { await unbanMember(s.id, u); await loadBans(); })}>
                {t("unban")}
              </button>
            </li>
          ))}
        </ul>
      </section>
      {summary.role === "owner" && (
        <div class="pad">
          <button type="button" class="secondary danger" onClick={remove}>{t("deleteRoom")}</button>
        </div>
      )}
    </aside>
  );
}
