import { useSignal } from "@preact/signals";
import { CLOSE } from "../../../protocol";
import { t } from "../lib/i18n";
import { presence } from "../lib/format";
import { refusal } from "../lib/refusal";
import { current, inbox, mute, networkUp, open, pendingJoin } from "../models/app";
import { blocked, setBlocked } from "../models/blocks";
import { nameOf } from "../models/names";
import { canModerate } from "../models/roles";
import { panel } from "../models/compose";
import type { ConversationSession } from "../models/session";
import { Composer } from "./Composer";
import { JoinScreen } from "./JoinScreen";
import { MembersPanel } from "./MembersPanel";
import { MessageList } from "./MessageList";
import { useOutcome } from "./Outcome";
import { Notice } from "./Notice";
import { RoomSettings } from "./RoomSettings";
import { SearchPanel } from "./SearchPanel";
import { Viewer } from "./Viewer";

export function ConversationView() {
  const s = current.value;
  const joining = pendingJoin.value;
  if (!s && joining) return <JoinScreen {...joining} />;
  if (!s) {
    return (
      <main class="main empty-main">
        <p class="muted">{t("pickConversation")}</p>
      </main>
    );
  }
  return <Open key={s.id} s={s} />;
}

function Open({ s }: { s: ConversationSession }) {
  const summary = s.model.summary.value ?? inbox.find(s.id) ?? null;
  const members = s.model.members.value;
  // Presence is only known while this conversation's socket is open; offline, say so rather than
  // show the last thing heard as if it were still true.
  const known = networkUp.value && s.state.value === "open";
  // Everyone online counts, me included (as in Slack and Telegram).
  const online = members.filter((m) => m.online || (m.username === s.model.me && known)).length;
  // A DM is called by the other person's name, which a `profile` frame may change while it is open.
  const title = summary ? (summary.kind === "room" ? `# ${summary.title}` : summary.peer ? nameOf(summary.peer) : summary.title) : "…";
  const peer = summary?.kind === "dm" ? members.find((m) => m.username !== s.model.me) : undefined;
  const status = !networkUp.value
    ? t("presenceUnknown")
    : !known
      ? t("connecting")
    : peer
      ? presence(peer.online, peer.lastSeen)
      : members.length === 1 ? t("membersOnlineOne", { online }) : t("membersOnline", { n: members.length, online });
  const refused = s.refused.value;
  const toggle = (p: "members" | "search" | "room") => { panel.value = panel.value === p ? null : p; };
  return (
    <main class="main" aria-labelledby="conv-title">
      <header class="conv-head">
        <button type="button" class="ghost back" aria-label={t("back")} onClick={() => open(null)}>‹</button>
        <div class="grow">
          <h2 id="conv-title" title={title}>{title}</h2>
          <div class="muted small" data-testid="conv-status">{status}</div>
          {summary?.topic && <div class="muted small topic" title={summary.topic}>{summary.topic}</div>}
        </div>
        <MuteToggle id={s.id} />
        {peer && !peer.deleted && <BlockToggle username={peer.username} />}
        {summary?.kind === "room" && canModerate(summary.role) && (
          <button type="button" id="toggle-room" class={`ghost${panel.value === "room" ? " pressed" : ""}`} aria-pressed={panel.value === "room"} onClick={() => toggle("room")}>{t("roomSettings")}</button>
        )}
        <button type="button" id="toggle-search" class={`ghost${panel.value === "search" ? " pressed" : ""}`} aria-pressed={panel.value === "search"} onClick={() => toggle("search")}>{t("search")}</button>
        <button type="button" id="toggle-members" class={`ghost${panel.value === "members" ? " pressed" : ""}`} aria-pressed={panel.value === "members"} onClick={() => toggle("members")}>{t("members")}</button>
      </header>
      <div class="conv-body">
        <div class="conv-col">
          {refused !== null ? (
            <p class="error center" role="alert">{refusedText(s, refused)}</p>
          ) : (
            <MessageList s={s} />
          )}
          <TypingLine s={s} />
          <Notice s={s} />
          {refused === null && <Composer s={s} />}
        </div>
        {panel.value === "members" && <MembersPanel s={s} />}
        {panel.value === "search" && <SearchPanel s={s} />}
        {panel.value === "room" && summary?.kind === "room" && <RoomSettings s={s} summary={summary} />}
      </div>
      <Viewer />
    </main>
  );
}

/** Why the server closed this conversation for good, in words. */
function refusedText(s: ConversationSession, code: number): string {
  const by = s.model.removedBy.value;
  if (code === CLOSE.FORBIDDEN && by) return t("removedBy", { name: nameOf(by) });
  if (code === CLOSE.NOT_FOUND) return s.model.summary.value?.kind === "room" ? t("roomGone") : t("errorNotFound");
  // The server closes a removed member's socket before their `member` event reaches it, so the
  // name of who removed them may be unknown: still say it in words.
  return s.model.summary.value?.kind === "room" ? t("noLongerMember") : t("errorForbidden");
}

/** Block or unblock the other person of a DM, from its header. */
function BlockToggle({ username }: { username: string }) {
  const error = useSignal("");
  const on = blocked.value.has(username);
  const name = nameOf(username);
  async function toggle() {
    if (!on && !confirm(t("confirmBlock", { name }))) return;
    error.value = "";
    try {
      await setBlocked(username, !on);
    } catch (err) {
      error.value = refusal(err);
    }
  }
  return (
    <>
      <button type="button" class="ghost" aria-pressed={on} aria-label={t(on ? "unblockNamed" : "blockNamed", { name })} onClick={() => void toggle()}>{t(on ? "unblock" : "block")}</button>
      {error.value && <span class="error small" role="alert">{error.value}</span>}
    </>
  );
}

/** Mutes the conversation on all my devices (it still counts unread), or unmutes it. */
function MuteToggle({ id }: { id: string }) {
  const { error, run } = useOutcome();
  const on = inbox.find(id)?.muted === true;
  return (
    <>
      <button type="button" class={`ghost${on ? " pressed" : ""}`} aria-pressed={on} title={t("muteHint")} onClick={() => void run(() => mute(id, !on))}>{t("mute")}</button>
      {error.value && <span class="error small" role="alert">{error.value}</span>}
    </>
  );
}

function TypingLine({ s }: { s: ConversationSession }) {
  const who = s.model.typing.value;
  return (
    <div class="typing muted small" aria-live="polite">
      {who.length === 0 ? "\u00a0" : who.length === 1 ? t("typingOne", { name: nameOf(who[0]!) }) : t("typingMany", { n: who.length })}
    </div>
  );
}
