import { useLayoutEffect, useRef } from "preact/hooks";
import type { Member } from "../../../protocol";
import { day, dayKey } from "../lib/format";
import { t } from "../lib/i18n";
import { atBottom, markRead } from "../models/app";
import type { Item, LocalMessage } from "../models/conversation";
import type { ConversationSession } from "../models/session";
import { LocalItem, MessageItem } from "./MessageItem";

/** Messages from one person within this long are shown as one group. */
const GROUP_MS = 5 * 60_000;
/** Closer than this to the top loads older messages; to the bottom counts as "at the bottom". */
const NEAR_TOP = 150;
const NEAR_BOTTOM = 40;

export function MessageList({ s }: { s: ConversationSession }) {
  const ref = useRef<HTMLDivElement>(null);
  const snap = useRef({ height: 0, top: 0, bottom: true, first: 0, local: 0 });
  const m = s.model;
  const items = m.timeline.value;
  const local = m.local.value;
  const names = new Map<string, string>(m.members.value.map((x: Member) => [x.username, x.name]));
  const nameOf = (u: string) => names.get(u) ?? u;

  function onScroll() {
    const el = ref.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM;
    snap.current = { ...snap.current, height: el.scrollHeight, top: el.scrollTop, bottom };
    if (atBottom.value !== bottom) atBottom.value = bottom;
    if (bottom) markRead();
    if (el.scrollTop < NEAR_TOP && m.more.value && !m.loadingHistory.value && m.ready.value) s.loadOlder();
  }

  // The scroll stays where it was, unless it was at the bottom (then it follows new messages) or
  // older messages were put above (then it keeps its distance from the bottom).
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const before = snap.current;
    const first = items[0]?.seq ?? 0;
    if (before.bottom || local.length > before.local) el.scrollTop = el.scrollHeight;
    else if (first !== before.first) el.scrollTop = before.top + (el.scrollHeight - before.height);
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM;
    snap.current = { height: el.scrollHeight, top: el.scrollTop, bottom: before.bottom || bottom, first, local: local.length };
    // A short conversation has no scroll bar: ask for more until it has one or none remain.
    if (el.scrollHeight <= el.clientHeight && m.more.value && !m.loadingHistory.value && m.ready.value) s.loadOlder();
  }, [items, local]);

  // A narrower list (a panel opened, the window resized) wraps lines anew: stay at the bottom if there.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(() => {
      if (snap.current.bottom) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    // The content too: lines re-wrap and fonts arrive without the list itself changing size.
    if (el.firstElementChild) ro.observe(el.firstElementChild);
    return () => ro.disconnect();
  }, []);

  const rows = [];
  let lastDay = "";
  let prev: Item | null = null;
  for (const item of items) {
    const ts = item.kind === "msg" ? item.message.ts : item.ts;
    const key = dayKey(ts);
    if (key !== lastDay) {
      rows.push(<li key={`d${key}`} class="day"><span>{day(ts)}</span></li>);
      lastDay = key;
      prev = null;
    }
    if (item.kind === "member") {
      rows.push(
        <li key={item.seq} class="system">
          {t(item.joined ? "joined" : "left", { name: nameOf(item.username) })}
        </li>,
      );
    } else {
      const p: Item | null = prev;
      const grouped = p !== null && p.kind === "msg" && p.message.from === item.message.from && item.message.ts - p.message.ts < GROUP_MS;
      rows.push(<MessageItem key={item.seq} s={s} message={item.message} first={!grouped} nameOf={nameOf} />);
    }
    prev = item;
  }
  if (local.length > 0 && lastDay !== dayKey(Date.now())) {
    rows.push(<li key="dtoday" class="day"><span>{day(Date.now())}</span></li>);
  }
  for (const l of local) rows.push(<LocalItem key={`l${l.id}`} s={s} m={l as LocalMessage} />);

  return (
    <div class="messages" ref={ref} onScroll={onScroll} role="log" aria-label={t("messages")} aria-busy={!m.ready.value}>
      <ol class="msg-list">
      {m.more.value && m.ready.value && (
        <li class="older">
          <button type="button" class="ghost small" disabled={m.loadingHistory.value} onClick={() => s.loadOlder()}>
            {m.loadingHistory.value ? t("loading") : t("loadOlder")}
          </button>
        </li>
      )}
      {!m.more.value && m.ready.value && <li class="system">{t("beginning")}</li>}
      {rows}
      </ol>
    </div>
  );
}
