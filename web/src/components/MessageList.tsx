import { useSignal } from "@preact/signals";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import { day, dayKey } from "../lib/format";
import { t } from "../lib/i18n";
import { atBottom, inbox, markRead } from "../models/app";
import type { Item } from "../models/conversation";
import { nameOf } from "../models/names";
import type { ConversationSession } from "../models/session";
import { LocalItem, MessageItem } from "./MessageItem";
import { SystemLine } from "./SystemLine";

/** Messages from one person within this long are shown as one group. */
const GROUP_MS = 5 * 60_000;
/** Closer than this to the top loads older messages; to the bottom counts as "at the bottom". */
const NEAR_TOP = 150;
const NEAR_BOTTOM = 40;
/** Keys that scroll the list (or move the focus along it, which scrolls it). */
const SCROLL_KEYS = new Set(["ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End", " "]);

/**
 * The conversation's messages, one widget for the keyboard: a single tab stop (the active message),
 * arrow keys, Home and End move between messages, Enter opens a message's menu, Tab enters it.
 */
export function MessageList({ s }: { s: ConversationSession }) {
  const ref = useRef<HTMLDivElement>(null);
  const m = s.model;
  const target = s.target.value;
  // Opened at a target (the first unread): do not stick to the bottom meanwhile.
  const snap = useRef({ height: 0, top: 0, bottom: target === null, first: 0, local: 0 });
  const reached = useRef(0);
  const retry = useRef<ReturnType<typeof setTimeout> | null>(null);
  const lit = useSignal<number | null>(null);
  const activeKey = useSignal<string | null>(null);
  const dividerAbove = useSignal(false);
  const items = m.timeline.value;
  const local = m.local.value;
  const newAfter = s.newAfter.value;

  function onScroll() {
    const el = ref.current;
    if (!el) return;
    const goal = s.target.value;
    if (goal !== null && goal.n !== reached.current) return; // still on the way to a target
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM;
    snap.current = { ...snap.current, height: el.scrollHeight, top: el.scrollTop, bottom };
    if (atBottom.value !== bottom) atBottom.value = bottom;
    if (bottom) markRead();
    // The "New messages" divider scrolled out above: offer a way back to it.
    const divider = el.querySelector(".unread-divider");
    const above = divider !== null && divider.getBoundingClientRect().bottom < el.getBoundingClientRect().top;
    if (dividerAbove.value !== above) dividerAbove.value = above;
    if (el.scrollTop < NEAR_TOP && m.more.value && !m.loadingHistory.value && m.ready.value) s.loadOlder();
  }

  // The scroll stays where it was, unless it was at the bottom (then it follows new messages) or
  // older messages were put above (then it keeps its distance from the bottom).
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const before = snap.current;
    const first = items[0]?.seq ?? 0;
    // On the way to a target (the first unread, a search result): neither follow the bottom nor
    // count as being there, or the unread would be marked read before the person saw them.
    const goal = s.target.value;
    if (goal !== null && goal.n !== reached.current) {
      snap.current = { height: el.scrollHeight, top: el.scrollTop, bottom: false, first, local: local.length };
      revealTarget(el);
      return;
    }
    if (before.bottom || local.length > before.local) el.scrollTop = el.scrollHeight;
    else if (first !== before.first) el.scrollTop = before.top + (el.scrollHeight - before.height);
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM;
    snap.current = { height: el.scrollHeight, top: el.scrollTop, bottom: before.bottom || bottom, first, local: local.length };
    // A short conversation has no scroll bar: ask for more until it has one or none remain.
    if (el.scrollHeight <= el.clientHeight && m.more.value && !m.loadingHistory.value && m.ready.value) s.loadOlder();
    // Nothing to scroll: the end is on screen.
    if (el.scrollHeight <= el.clientHeight && !atBottom.value && target === null) atBottom.value = true;
  }, [items, local, target]);

  /** Brings the target message into view once it is loaded, asking for older pages until it is. */
  function revealTarget(el: HTMLDivElement): void {
    const goal = s.target.value;
    if (!goal || goal.n === reached.current) return;
    // Look again in a second while on the way: a refused page (rate limited) changes nothing on
    // screen, so nothing else would ask again.
    if (!retry.current) {
      retry.current = setTimeout(() => {
        retry.current = null;
        if (ref.current) revealTarget(ref.current);
      }, 1000);
    }
    if (!m.ready.value) return;
    const oldest = m.oldestSeq();
    if ((oldest === undefined || oldest > goal.seq) && m.more.value) {
      if (!m.loadingHistory.value) s.loadOlder();
      return;
    }
    reached.current = goal.n;
    const divider = goal.highlight ? null : el.querySelector<HTMLElement>(".unread-divider");
    const row = divider ?? [...el.querySelectorAll<HTMLElement>("li[data-seq]")].find((x) => Number(x.dataset.seq) >= goal.seq);
    if (!row) {
      el.scrollTop = el.scrollHeight;
      snap.current = { ...snap.current, height: el.scrollHeight, top: el.scrollTop, bottom: true };
      atBottom.value = true;
      return;
    }
    // Only the list scrolls (scrollIntoView would scroll every ancestor, the page too).
    const offset = row.getBoundingClientRect().top - el.getBoundingClientRect().top;
    el.scrollTop += divider ? offset - 8 : offset - (el.clientHeight - row.offsetHeight) / 2;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM;
    snap.current = { ...snap.current, height: el.scrollHeight, top: el.scrollTop, bottom };
    atBottom.value = bottom;
    if (goal.highlight) {
      lit.value = goal.seq;
      activeKey.value = row.dataset.key ?? null;
      row.focus({ preventScroll: true });
    }
  }

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
  useEffect(() => () => { if (retry.current) clearTimeout(retry.current); }, []);

  /** To the newest message, giving up on a target still loading (the person chose otherwise). */
  function toLatest() {
    const goal = s.target.value;
    if (goal) reached.current = goal.n;
    const el = ref.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    snap.current = { ...snap.current, height: el.scrollHeight, top: el.scrollTop, bottom: true };
  }

  /**
   * The person moves the list themselves (wheel, touch, keys): a target still on its way is given
   * up, and a place decided later (the first unread, at the welcome) does not move the list again.
   */
  function personMoves(e: Event) {
    if (e instanceof KeyboardEvent && !SCROLL_KEYS.has(e.key)) return;
    const goal = s.target.value;
    if (goal) reached.current = goal.n;
    s.movedByPerson = true;
  }

  /** Back up to the "New messages" divider. */
  function toFirstUnread() {
    const el = ref.current;
    const divider = el?.querySelector<HTMLElement>(".unread-divider");
    if (!el || !divider) return;
    el.scrollTop += divider.getBoundingClientRect().top - el.getBoundingClientRect().top - 8;
    // The first unread message takes the keyboard focus, so reading can go on from there.
    const first = divider.nextElementSibling;
    if (first instanceof HTMLElement && first.dataset.key) {
      activeKey.value = first.dataset.key;
      first.focus({ preventScroll: true });
    }
  }

  /** Arrow keys, Home and End move the focus from message to message (the list is one tab stop). */
  function onKeyDown(e: KeyboardEvent) {
    if (!(e.target instanceof HTMLElement) || !e.target.matches("li[data-key]")) return;
    const rows = [...(ref.current?.querySelectorAll<HTMLElement>("li[data-key]") ?? [])];
    const at = rows.indexOf(e.target);
    const to = e.key === "ArrowDown" ? at + 1 : e.key === "ArrowUp" ? at - 1 : e.key === "Home" ? 0 : e.key === "End" ? rows.length - 1 : null;
    if (to === null) return;
    e.preventDefault();
    const next = rows[Math.max(0, Math.min(rows.length - 1, to))];
    if (next) {
      activeKey.value = next.dataset.key ?? null;
      next.focus();
    }
  }

  function onFocusIn(e: FocusEvent) {
    const row = e.target instanceof Element ? e.target.closest<HTMLElement>("li[data-key]") : null;
    if (row?.dataset.key) activeKey.value = row.dataset.key;
  }

  // Who has read my latest message, in a room (a DM has its ticks).
  const room = m.summary.value?.kind === "room";
  let lastMine = 0;
  for (const i of items) if (i.kind === "msg" && i.message.from === m.me && !i.message.deleted) lastMine = i.seq;
  const seenBy = room && lastMine > 0 ? m.members.value.filter((x) => x.username !== m.me && x.readSeq >= lastMine).map((x) => nameOf(x.username)) : undefined;

  // The active message: the one chosen, else the newest.
  const keys = [...items.filter((i) => i.kind === "msg").map((i) => `m${i.seq}`), ...local.map((l) => `l${l.id}`)];
  const active = activeKey.value !== null && keys.includes(activeKey.value) ? activeKey.value : keys[keys.length - 1];

  const rows = [];
  let lastDay = "";
  let prev: Item | null = null;
  let divided = false;
  for (const item of items) {
    const ts = item.kind === "msg" ? item.message.ts : item.ts;
    const key = dayKey(ts);
    if (key !== lastDay) {
      rows.push(<li key={`d${key}`} class="day"><span>{day(ts)}</span></li>);
      lastDay = key;
      prev = null;
    }
    if (!divided && newAfter !== null && item.seq > newAfter && item.kind === "msg" && item.message.from !== m.me) {
      divided = true;
      rows.push(<li key="new" class="unread-divider"><span>{t("newMessages")}</span></li>);
    }
    if (item.kind !== "msg") {
      rows.push(<SystemLine key={item.seq} item={item} />);
    } else {
      const p: Item | null = prev;
      const grouped = p !== null && p.kind === "msg" && p.message.from === item.message.from && item.message.ts - p.message.ts < GROUP_MS;
      rows.push(
        <MessageItem key={item.seq} s={s} message={item.message} first={!grouped} active={active === `m${item.seq}`} highlight={lit.value === item.seq}
          seenBy={item.seq === lastMine ? seenBy : undefined} deletedBy={item.deletedBy} />,
      );
    }
    prev = item;
  }
  if (local.length > 0 && lastDay !== dayKey(Date.now())) {
    rows.push(<li key="dtoday" class="day"><span>{day(Date.now())}</span></li>);
  }
  for (const l of local) rows.push(<LocalItem key={`l${l.id}`} s={s} m={l} active={active === `l${l.id}`} />);

  return (
    <>
      <div class="messages" ref={ref} onScroll={onScroll} onWheel={personMoves} onTouchMove={personMoves} onKeyDown={personMoves} role="log" aria-label={t("messages")} aria-busy={!m.ready.value}>
        <ol class="msg-list" aria-describedby="msg-keys" onKeyDown={onKeyDown} onFocusIn={onFocusIn}>
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
      <p id="msg-keys" class="sr-only">{t("messageKeys")}</p>
      {dividerAbove.value && (
        <button type="button" class="jump-unread small" onClick={toFirstUnread}>
          <span aria-hidden="true">↑ </span>{t("jumpFirstUnread")}
        </button>
      )}
      {!atBottom.value && m.ready.value && <JumpToLatest s={s} onJump={toLatest} />}
    </>
  );
}

/** Scrolled up: a button back to the newest message, with how many arrived unread meanwhile. */
function JumpToLatest({ s, onJump }: { s: ConversationSession; onJump: () => void }) {
  const n = inbox.find(s.id)?.unread ?? 0;
  return (
    <button type="button" class="jump-latest" aria-label={n > 0 ? t("jumpLatestN", { n }) : t("jumpLatest")} onClick={onJump}>
      <span aria-hidden="true">↓</span>
      {n > 0 && <span class="badge" aria-hidden="true">{n > 99 ? "99+" : n}</span>}
    </button>
  );
}
