import { textOf } from "../lib/files";
import { useSignal } from "@preact/signals";
import type { Summary } from "../../../protocol";
import { short } from "../lib/format";
import { t } from "../lib/i18n";
import { currentId, inbox, inboxState, me, networkUp, notificationsAllowed, open, signOut } from "../models/app";
import { settingsOpen } from "../models/account";
import { nameOf } from "../models/names";
import { pinned, togglePin } from "../models/pins";
import { setPush } from "../models/pwa";
import { Avatar } from "./Avatar";
import { LangSwitch } from "./LangSwitch";
import { NewConversation } from "./NewConversation";

export function Sidebar() {
  const filter = useSignal("");
  const user = me.value;
  if (!user) return null;
  const q = filter.value.trim().toLowerCase();
  const pins = pinned.value;
  // Pinned first (in the order of activity), then the rest; filtered by title as the person types.
  const all = inbox.conversations.value;
  const list = [...all.filter((c) => pins.has(c.id)), ...all.filter((c) => !pins.has(c.id))]
    .filter((c) => q === "" || c.title.toLowerCase().includes(q) || (c.peer ?? "").includes(q));
  return (
    <nav class="sidebar" aria-label={t("conversations")}>
      <header class="side-head">
        <Avatar name={user.name} />
        <div class="grow">
          <div class="strong">{user.name}</div>
          <div class="muted small">@{user.username}</div>
        </div>
        <button type="button" id="open-settings" class="ghost" aria-pressed={settingsOpen.value} onClick={() => { settingsOpen.value = !settingsOpen.value; }}>{t("settings")}</button>
        <button type="button" class="ghost" onClick={() => void signOut()}>{t("signOut")}</button>
      </header>
      <div class="side-tools">
        <LangSwitch />
        {!notificationsAllowed.value && typeof Notification !== "undefined" && Notification.permission !== "denied" && (
          <button type="button" class="ghost small" onClick={() => void setPush(true).catch(() => {})}>{t("enableNotifications")}</button>
        )}
      </div>
      <NewConversation />
      {all.length > 0 && (
        <label class="filter">
          <span class="sr-only">{t("filterConversations")}</span>
          <input type="search" placeholder={t("filterConversations")} value={filter.value} maxLength={100}
            onInput={(e) => { filter.value = e.currentTarget.value; }}
            onKeyDown={(e) => { if (e.key === "Escape") filter.value = ""; }} />
        </label>
      )}
      <ul class="conv-list">
        {all.length === 0 && inbox.loaded.value && <li class="muted empty">{t("noConversations")}</li>}
        {all.length > 0 && list.length === 0 && <li class="muted empty">{t("noMatches")}</li>}
        {list.map((c) => <ConversationRow key={c.id} c={c} />)}
      </ul>
    </nav>
  );
}

function ConversationRow({ c }: { c: Summary }) {
  const active = currentId.value === c.id;
  const isPinned = pinned.value.has(c.id);
  // While I am cut off, nobody's presence is known: show no dot rather than a stale "online".
  const known = networkUp.value && inboxState.value === "open";
  const online = c.kind === "dm" && c.peer !== undefined && known ? inbox.online.value.has(c.peer) : undefined;
  const last = c.last;
  const n = c.members ?? 1;
  const preview = last ? (last.deleted ? t("deleted") : textOf(last)) : c.kind === "room" ? (n === 1 ? t("roomMembersOne") : t("roomMembers", { n })) : "";
  const who = last && c.kind === "room" && last.from ? `${nameOf(last.from)}: ` : "";
  const title = c.kind === "room" ? `# ${c.title}` : c.title;
  return (
    <li class="conv-item">
      <button
        type="button"
        class={`conv${active ? " active" : ""}${c.unread > 0 ? " has-unread" : ""}${c.muted ? " is-muted" : ""}`}
        aria-current={active ? "true" : undefined}
        data-conv={c.id}
        onClick={() => { settingsOpen.value = false; open(c.id); }}
      >
        <Avatar name={c.title || c.peer || "#"} online={online} />
        <span class="conv-main">
          <span class="conv-top">
            <span class="conv-title">{title}</span>
            {isPinned && <span class="pin-mark" aria-hidden="true">📌</span>}
            {c.muted && <span class="pin-mark" role="img" aria-label={t("mutedLabel")}>🔕</span>}
            {last && <time class="muted small" dateTime={new Date(last.ts).toISOString()}>{short(last.ts)}</time>}
          </span>
          <span class="conv-bottom">
            <span class="conv-last muted">{who}{preview}</span>
            {!!c.mentions && <span class="badge at" aria-hidden="true">@</span>}
            {c.unread > 0 && <span class="badge" aria-hidden="true">{c.unread > 99 ? "99+" : c.unread}</span>}
            {c.unread > 0 && <span class="sr-only">{t("unreadCount", { n: c.unread })}</span>}
            {!!c.mentions && <span class="sr-only">{t("mentionCount", { n: c.mentions })}</span>}
          </span>
        </span>
        {online !== undefined && <span class="sr-only">{online ? t("online") : t("offlineStatus")}</span>}
        {isPinned && <span class="sr-only">{t("pinnedLabel")}</span>}
      </button>
      <button type="button" class="ghost pin" aria-pressed={isPinned} aria-label={t(isPinned ? "unpin" : "pin", { title })} onClick={() => togglePin(c.id)}>
        <span aria-hidden="true">📌</span>
      </button>
    </li>
  );
}
