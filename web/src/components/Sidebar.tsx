import type { Summary } from "../../../protocol";
import { short } from "../lib/format";
import { t } from "../lib/i18n";
import { askNotifications, currentId, inbox, me, notificationsAllowed, open, signOut } from "../models/app";
import { Avatar } from "./Avatar";
import { LangSwitch } from "./LangSwitch";
import { NewConversation } from "./NewConversation";

export function Sidebar() {
  const user = me.value;
  if (!user) return null;
  const list = inbox.conversations.value;
  return (
    <nav class="sidebar" aria-label={t("conversations")}>
      <header class="side-head">
        <Avatar name={user.name} />
        <div class="grow">
          <div class="strong">{user.name}</div>
          <div class="muted small">@{user.username}</div>
        </div>
        <button type="button" class="ghost" onClick={() => void signOut()}>{t("signOut")}</button>
      </header>
      <div class="side-tools">
        <LangSwitch />
        {!notificationsAllowed.value && typeof Notification !== "undefined" && Notification.permission !== "denied" && (
          <button type="button" class="ghost small" onClick={() => void askNotifications()}>{t("enableNotifications")}</button>
        )}
      </div>
      <NewConversation />
      <ul class="conv-list">
        {list.length === 0 && inbox.loaded.value && <li class="muted empty">{t("noConversations")}</li>}
        {list.map((c) => <ConversationRow key={c.id} c={c} />)}
      </ul>
    </nav>
  );
}

function ConversationRow({ c }: { c: Summary }) {
  const active = currentId.value === c.id;
  const online = c.kind === "dm" && c.peer !== undefined ? inbox.online.value.has(c.peer) : undefined;
  const last = c.last;
  const preview = last ? (last.deleted ? t("deleted") : last.body) : c.kind === "room" ? t("roomMembers", { n: c.members ?? 1 }) : "";
  const who = last && c.kind === "room" && last.from ? `${last.from}: ` : "";
  return (
    <li>
      <button
        type="button"
        class={`conv${active ? " active" : ""}${c.unread > 0 ? " has-unread" : ""}`}
        aria-current={active ? "true" : undefined}
        data-conv={c.id}
        onClick={() => open(c.id)}
      >
        <Avatar name={c.title || c.peer || "#"} online={online} />
        <span class="conv-main">
          <span class="conv-top">
            <span class="conv-title">{c.kind === "room" ? `# ${c.title}` : c.title}</span>
            {last && <time class="muted small">{short(last.ts)}</time>}
          </span>
          <span class="conv-bottom">
            <span class="conv-last muted">{who}{preview}</span>
            {c.unread > 0 && <span class="badge" aria-hidden="true">{c.unread > 99 ? "99+" : c.unread}</span>}
            {c.unread > 0 && <span class="sr-only">{t("unreadCount", { n: c.unread })}</span>}
          </span>
        </span>
        {online !== undefined && <span class="sr-only">{online ? t("online") : t("offlineStatus")}</span>}
      </button>
    </li>
  );
}
