import { useSignal } from "@preact/signals";
import type { Message } from "../../../protocol";
import { time } from "../lib/format";
import { t } from "../lib/i18n";
import type { LocalMessage } from "../models/conversation";
import { editing, replyingTo } from "../models/compose";
import type { ConversationSession } from "../models/session";
import { Avatar } from "./Avatar";
import { MessageText } from "./MessageText";
import { Ticks } from "./Ticks";

export const QUICK_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

interface Props {
  s: ConversationSession;
  message: Message;
  /** First of a group from the same person: show the avatar and name. */
  first: boolean;
  nameOf: (username: string) => string;
}

export function MessageItem({ s, message: m, first, nameOf }: Props) {
  const picking = useSignal(false);
  const mine = m.from === s.model.me;
  const name = nameOf(m.from);
  const room = s.model.summary.value?.kind === "room";
  const react = (emoji: string, on: boolean) => {
    s.send({ t: "react", target: m.seq, emoji, on });
    picking.value = false;
  };
  return (
    <li id={`m-${s.id}-${m.seq}`} class={`msg ${mine ? "mine" : "theirs"}${first ? " first" : ""}`} data-seq={m.seq} data-id={m.id}>
      {!mine && (first ? <Avatar name={name} /> : <span class="avatar-gap" />)}
      <div class="bubble-wrap">
        {!mine && first && room && <div class="from small">{name}</div>}
        <div class={`bubble${m.deleted ? " deleted" : ""}`}>
          <span class="sr-only">{mine ? t("you") : name}: </span>
          {m.replyTo !== undefined && <Quote s={s} seq={m.replyTo} nameOf={nameOf} />}
          <span class="body">{m.deleted ? t("deletedMessage") : <MessageText body={m.body} />}</span>
          <span class="meta">
            {m.edited && !m.deleted && <span class="edited">{t("edited")}</span>}
            <time dateTime={new Date(m.ts).toISOString()}>{time(m.ts)}</time>
            {mine && !m.deleted && <Ticks tick={s.model.tick({ seq: m.seq })} />}
          </span>
        </div>
        {m.reactions && m.reactions.length > 0 && (
          <div class="reactions">
            {m.reactions.map((r) => {
              const own = r.users.includes(s.model.me);
              return (
                <button key={r.emoji} type="button" class={`chip${own ? " own" : ""}`} aria-pressed={own}
                  aria-label={t("reactionLabel", { emoji: r.emoji, n: r.users.length })} title={r.users.map(nameOf).join(", ")}
                  onClick={() => react(r.emoji, !own)}>
                  {r.emoji} {r.users.length}
                </button>
              );
            })}
          </div>
        )}
        {!m.deleted && (
          <div class="actions">
            <button type="button" class="ghost small" onClick={() => { editing.value = null; replyingTo.value = m; focusComposer(); }}>{t("reply")}</button>
            <button type="button" class="ghost small" aria-expanded={picking.value} onClick={() => { picking.value = !picking.value; }}>{t("react")}</button>
            {mine && <button type="button" class="ghost small" onClick={() => { replyingTo.value = null; editing.value = m; focusComposer(); }}>{t("edit")}</button>}
            {mine && <button type="button" class="ghost small danger" onClick={() => { if (confirm(t("confirmDelete"))) s.send({ t: "delete", target: m.seq }); }}>{t("delete")}</button>}
          </div>
        )}
        {picking.value && (
          <fieldset class="picker">
            <legend class="sr-only">{t("react")}</legend>
            {QUICK_EMOJI.map((e) => (
              <button key={e} type="button" class="ghost" aria-label={e} onClick={() => react(e, !(m.reactions?.find((r) => r.emoji === e)?.users.includes(s.model.me) ?? false))}>{e}</button>
            ))}
          </fieldset>
        )}
      </div>
    </li>
  );
}

function Quote({ s, seq, nameOf }: { s: ConversationSession; seq: number; nameOf: (u: string) => string }) {
  const target = s.model.message(seq);
  return (
    <span class="quote">
      {target ? (
        <>
          <span class="strong small">{nameOf(target.from)}</span>
          <span class="small">{target.deleted ? t("deletedMessage") : target.body.slice(0, 140)}</span>
        </>
      ) : (
        <span class="small muted">{t("earlierMessage")}</span>
      )}
    </span>
  );
}

/** A message of mine not in the log yet: sending, sent (acked), or failed with a retry. */
export function LocalItem({ s, m }: { s: ConversationSession; m: LocalMessage }) {
  const tick = s.model.tick(m);
  return (
    <li class="msg mine first local" data-id={m.id} data-local="yes">
      <div class="bubble-wrap">
        <div class="bubble">
          {m.replyTo !== undefined && <Quote s={s} seq={m.replyTo} nameOf={(u) => u} />}
          <span class="body"><MessageText body={m.body} /></span>
          <span class="meta">
            <time>{time(m.created)}</time>
            <Ticks tick={tick} />
          </span>
        </div>
        {tick === "failed" && (
          <div class="failed small">
            <span class="error">{t("notSent")}</span>
            <button type="button" class="ghost small" onClick={() => void s.retry(m.id)}>{t("retry")}</button>
          </div>
        )}
      </div>
    </li>
  );
}

function focusComposer() {
  document.getElementById("composer")?.focus();
}
