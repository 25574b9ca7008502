import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";
import type { FileRef, Message } from "../../../protocol";
import { fileUrl, imageBox, isImage, pending, sizeText, textOf } from "../lib/files";
import { full, time } from "../lib/format";
import { t, type Key } from "../lib/i18n";
import { menuFor, viewing } from "../models/compose";
import type { LocalMessage } from "../models/conversation";
import { blocked } from "../models/blocks";
import { nameOf } from "../models/names";
import type { ConversationSession } from "../models/session";
import { Avatar } from "./Avatar";
import { MessageMenu } from "./MessageMenu";
import { MessageText } from "./MessageText";
import { Ticks } from "./Ticks";

/** How long a finger must rest on a message to open its menu. */
const LONG_PRESS_MS = 500;

interface Props {
  s: ConversationSession;
  message: Message;
  /** First of a group from the same person: show the avatar and name. */
  first: boolean;
  /** The one message of the list that is in the tab order (the list is one widget: arrows move). */
  active: boolean;
  /** Brought into view from a search result or a quote: highlighted once. */
  highlight: boolean;
  /** Rooms, under my latest message: who has read up to it. */
  seenBy?: string[] | undefined;
  /** The moderator who deleted it, when not its author. */
  deletedBy?: string | undefined;
}

export function MessageItem(props: Props) {
  const { s, message: m, active } = props;
  const shown = useSignal(false);
  // In a room, the messages of someone I block are folded away until I ask to see one (the server
  // still delivers them: a block changes nothing in shared rooms).
  if (s.model.summary.value?.kind === "room" && blocked.value.has(m.from) && !m.deleted && !shown.value) {
    return (
      <li id={`m-${s.id}-${m.seq}`} class="msg theirs first collapsed muted small" data-seq={m.seq} data-id={m.id} data-key={`m${m.seq}`} data-blocked="yes" tabIndex={active ? 0 : -1}>
        <span class="grow">{t("blockedMessage")}</span>
        <button type="button" class="ghost small" tabIndex={active ? 0 : -1} aria-label={t("showBlocked", { name: nameOf(m.from) })} onClick={() => { shown.value = true; }}>{t("show")}</button>
      </li>
    );
  }
  return <Shown {...props} />;
}

function Shown({ s, message: m, first, active, highlight, seenBy, deletedBy }: Props) {
  const mine = m.from === s.model.me;
  const name = nameOf(m.from);
  const room = s.model.summary.value?.kind === "room";
  const menuOpen = menuFor.value === m.seq;
  const tab = active ? 0 : -1;
  const press = useRef<ReturnType<typeof setTimeout> | null>(null);
  const openMenu = () => { if (!m.deleted) menuFor.value = m.seq; };
  const cancelPress = () => { if (press.current) clearTimeout(press.current); press.current = null; };

  return (
    <li
      id={`m-${s.id}-${m.seq}`}
      class={`msg ${mine ? "mine" : "theirs"}${first ? " first" : ""}${highlight ? " highlight" : ""}${menuOpen ? " menu-open" : ""}`}
      data-seq={m.seq}
      data-id={m.id}
      data-key={`m${m.seq}`}
      tabIndex={tab}
      onContextMenu={(e) => { if (m.deleted) return; e.preventDefault(); openMenu(); }}
      // A tap on the bubble opens the menu on a touch screen (there is no hover); a resting finger does too.
      onClick={(e) => { if (matchMedia("(hover: none)").matches && onBubble(e.target) && !(e.target instanceof Element && e.target.closest("a, button"))) openMenu(); }}
      onPointerDown={(e) => { if (e.pointerType === "touch" && onBubble(e.target)) { cancelPress(); press.current = setTimeout(openMenu, LONG_PRESS_MS); } }}
      onPointerUp={cancelPress}
      onPointerMove={cancelPress}
      onPointerCancel={cancelPress}
      onKeyDown={(e) => { if (e.target === e.currentTarget && (e.key === "Enter" || e.key === "ContextMenu" || (e.key === "F10" && e.shiftKey))) { e.preventDefault(); openMenu(); } }}
    >
      {!mine && (first ? <Avatar name={name} /> : <span class="avatar-gap" />)}
      <div class="bubble-wrap">
        {!mine && first && room && <div class="from small">{name}</div>}
        <div class={`bubble${m.deleted ? " deleted" : ""}`}>
          <span class="sr-only">{mine ? t("you") : name}: </span>
          {m.replyTo !== undefined && <Quote s={s} seq={m.replyTo} tab={tab} />}
          {m.files && !m.deleted && <Files conv={s.id} files={m.files} tab={tab} />}
          <span class="body">{m.deleted ? (deletedBy ? t("deletedByName", { name: nameOf(deletedBy) }) : t("deletedMessage")) : <MessageText body={m.body} me={s.model.me} tab={tab} />}</span>
          <span class="meta">
            {m.edited && !m.deleted && <span class="edited">{t("edited")}</span>}
            <time dateTime={new Date(m.ts).toISOString()} title={full(m.ts)}>{time(m.ts)}</time>
            {mine && !m.deleted && <Ticks tick={s.model.tick({ seq: m.seq })} />}
          </span>
        </div>
        {m.reactions && m.reactions.length > 0 && (
          <div class="reactions">
            {m.reactions.map((r) => {
              const own = r.users.includes(s.model.me);
              return (
                <button key={r.emoji} type="button" tabIndex={tab} class={`chip${own ? " own" : ""}`} aria-pressed={own}
                  aria-label={t("reactionLabel", { emoji: r.emoji, n: r.users.length })} title={r.users.map(nameOf).join(", ")}
                  onClick={() => s.send({ t: "react", target: m.seq, emoji: r.emoji, on: !own })}>
                  {r.emoji} {r.users.length}
                </button>
              );
            })}
          </div>
        )}
        {seenBy && seenBy.length > 0 && <div class="seen muted small" data-testid="seen-by">{t("seenBy", { names: seenBy.join(", ") })}</div>}
        {!m.deleted && (
          <button type="button" class="ghost menu-btn" tabIndex={tab} data-menu-for={m.seq} aria-haspopup="menu" aria-expanded={menuOpen}
            aria-label={t("actionsFor", { name: mine ? t("you") : name })} onClick={() => { menuFor.value = menuOpen ? null : m.seq; }}>
            ⋯
          </button>
        )}
        {menuOpen && <MessageMenu s={s} m={m} />}
      </div>
    </li>
  );
}

/**
 * A message's files: images inline, in a box sized from their width and height before they load
 * (the list does not move), opened full size in the viewer; anything else a chip that downloads.
 */
function Files({ conv, files, tab }: { conv: string; files: FileRef[]; tab: number }) {
  const images = files.filter(isImage);
  return (
    <div class="files">
      {files.map((f) => {
        const url = fileUrl(conv, f.id);
        if (!isImage(f)) {
          return (
            <a key={f.id} class="file chip" href={url} download={f.name} tabIndex={tab}>
              <span aria-hidden="true">📄 </span>{f.name} <span class="muted">{sizeText(f.size)}</span>
            </a>
          );
        }
        const box = imageBox(f);
        return (
          <button key={f.id} type="button" class="image" tabIndex={tab} aria-label={t("openImage", { name: f.name })} style={{ width: `${box.width}px`, aspectRatio: `${box.width} / ${box.height}` }}
            onClick={(e) => { viewing.value = { conv, files: images, i: images.indexOf(f), from: e.currentTarget }; }}>
            <img src={url} alt="" loading="lazy" decoding="async" />
          </button>
        );
      })}
    </div>
  );
}

function onBubble(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest(".bubble") !== null;
}

/** The message replied to; a click (or Enter) goes to it, loading older messages if need be. */
function Quote({ s, seq, tab }: { s: ConversationSession; seq: number; tab: number }) {
  const target = s.model.message(seq);
  return (
    <button type="button" class="quote" tabIndex={tab} aria-label={t("goToQuoted")} onClick={(e) => { e.stopPropagation(); s.reveal(seq); }}>
      {target ? (
        <>
          <span class="strong small">{nameOf(target.from)}</span>
          <span class="small quote-text">{target.deleted ? t("deletedMessage") : textOf(target).slice(0, 140)}</span>
        </>
      ) : (
        <span class="small muted">{t("earlierMessage")}</span>
      )}
    </button>
  );
}

/** Why an upload was refused (session.ts UPLOAD_REFUSED), in words. */
const FAILED: Record<string, Key> = { too_large: "notSentTooLarge", quota: "notSentQuota", unsupported: "notSentType" };

/** A message of mine not in the log yet: sending, sent (acked), or failed with a retry. */
export function LocalItem({ s, m, active }: { s: ConversationSession; m: LocalMessage; active: boolean }) {
  const tick = s.model.tick(m);
  const up = s.upload.value;
  return (
    <li class="msg mine first local" data-id={m.id} data-local="yes" data-key={`l${m.id}`} tabIndex={active ? 0 : -1}>
      <div class="bubble-wrap">
        <div class="bubble">
          {m.replyTo !== undefined && <Quote s={s} seq={m.replyTo} tab={-1} />}
          {m.files && (
            <ul class="files">
              {m.files.map((f) => (
                <li key={f} class="file chip">
                  {f.name} <span class="muted">{sizeText(pending(f) ? f.blob.size : f.size)}</span>
                  {pending(f) && (
                    <>
                      <progress aria-label={f.name} max={1} value={up?.file === f ? up.done : 0} />
                      <button type="button" class="ghost small" aria-label={t("cancelUpload", { name: f.name })} onClick={() => s.cancelFile(m.id, f)}>×</button>
                    </>
                  )}
                </li>
              ))}
            </ul>
          )}
          <span class="body"><MessageText body={m.body} me={s.model.me} tab={-1} /></span>
          <span class="meta">
            <time title={full(m.created)}>{time(m.created)}</time>
            <Ticks tick={tick} />
          </span>
        </div>
        {tick === "failed" && (
          <div class="failed small">
            {/* A DM's `send` is refused with `forbidden` only when the other person blocks me (7.2). */}
            <span class="error">{t(m.failed === "forbidden" && s.model.summary.value?.kind === "dm" ? "notSentBlocked" : (FAILED[m.failed ?? ""] ?? "notSent"))}</span>
            <button type="button" class="ghost small" onClick={() => void s.retry(m.id)}>{t("retry")}</button>
          </div>
        )}
      </div>
    </li>
  );
}
