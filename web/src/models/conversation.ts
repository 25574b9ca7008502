/**
 * One open conversation as the client holds it: the log applied in `seq` order, each `seq` once
 * (duplicates dropped, gaps buffered and filled with `sync`), my messages not yet in the log, the
 * members with presence and read marks, and who is typing. It never touches a socket: `receive`
 * returns the frames the controller should send and what it should do with the outbox.
 */
import { batch, signal } from "@preact/signals";
import { TYPING_TTL_MS, type ErrorCode, type EventFrame, type Member, type Message, type Role, type ServerFrame, type Summary } from "../../../protocol";
import type { QueuedFile } from "../lib/files";
import { learnNames, markDeleted, nameOf } from "./names";
import { tickOf, type Tick } from "./ticks";

export type Item =
  /** `deletedBy`: the admin or owner who deleted someone else's message (v1.1). */
  | { kind: "msg"; seq: number; message: Message; deletedBy?: string }
  | { kind: "member"; seq: number; username: string; joined: boolean; ts: number; by?: string }
  /** Room settings changed (v1.1); `changed` says what, as far as this client saw the room before. */
  | { kind: "room"; seq: number; ts: number; by: string; title: string; topic: string; private: boolean; changed: RoomChange }
  | { kind: "role"; seq: number; ts: number; by: string; username: string; role: Role };

/** Which setting a `room` event changed; "title" also when the previous state is unknown. */
export type RoomChange = "title" | "topic" | "private";

/** A message of mine that is not in the log yet. */
export interface LocalMessage {
  id: string;
  body: string;
  replyTo?: number;
  /** Its files: bytes until uploaded (then it is sent), the server's record after. */
  files?: QueuedFile[];
  created: number;
  /** Set by its ack. */
  seq?: number;
  /** The error code that refused it. */
  failed?: string;
}

export type Effect =
  | { t: "sync"; since: number }
  | { t: "history"; before?: number }
  | { t: "acked"; id: string }
  | { t: "failed"; id: string; code: string }
  /** Refused as too fast, or not stored (internal): to be sent again, with the same id, after a pause. */
  | { t: "later"; id: string; code: "rate_limited" | "internal" }
  /** A new message from someone else, live (for a desktop notification). */
  | { t: "incoming"; message: Message };

/** A refused edit, delete or reaction (an error without an id), to tell the person; `n` tells repeats apart. */
export interface Notice {
  code: ErrorCode;
  n: number;
}

/** Fewer messages than this after the first sync: load some history at once. */
const FIRST_SCREEN = 30;

export class ConversationModel {
  /** The highest seq applied; null until the welcome says where "now" is (opened without since). */
  applied: number | null;
  readonly timeline = signal<Item[]>([]);
  readonly local = signal<LocalMessage[]>([]);
  readonly members = signal<Member[]>([]);
  readonly summary = signal<Summary | null>(null);
  /** My messages up to this seq reached another member's device. */
  readonly deliveredSeq = signal(0);
  readonly typing = signal<string[]>([]);
  /** Older messages remain on the server. */
  readonly more = signal(true);
  readonly loadingHistory = signal(false);
  /** The first replay is done: the view shows the conversation. */
  readonly ready = signal(false);
  /** Who removed (or banned) me from this room: the socket closes with 4403 right after. */
  readonly removedBy = signal<string | null>(null);
  /** The last refusal of a frame that had no id, until the person dismisses it. */
  readonly notice = signal<Notice | null>(null);

  #items = new Map<number, Item>();
  #buffer = new Map<number, EventFrame>();
  #replaying = false;
  #syncAsked = false;
  #typingUntil = new Map<string, number>();

  constructor(readonly id: string, public me: string, since: number | null, private readonly now: () => number = Date.now) {
    this.applied = since;
  }

  /** Applies one frame; returns what the controller must do. */
  receive(frame: ServerFrame): Effect[] {
    const fx: Effect[] = [];
    batch(() => this.#receive(frame, fx));
    return fx;
  }

  #receive(frame: ServerFrame, fx: Effect[]): void {
    // Every event takes its seq, also kinds this client does not show (v1.1 `room`, `role`): a seq
    // left unapplied would look like a gap to fill forever.
    if (isEvent(frame)) return this.#offer(frame, fx);
    switch (frame.t) {
      case "welcome":
        this.me = frame.me;
        this.summary.value = frame.conv;
        this.members.value = frame.members;
        learnNames(frame.members);
        for (const m of frame.members) if (m.deleted) markDeleted(m.username);
        if (this.applied === null) this.applied = frame.conv.lastSeq;
        this.#replaying = true;
        this.#syncAsked = false;
        this.#touchDelivered();
        return;
      case "synced":
        return this.#synced(frame.lastSeq, frame.more, frame.reset === true, fx);
      case "ack": {
        this.local.value = this.local.value.map((m) => {
          if (m.id !== frame.id) return m;
          const { failed: _f, ...rest } = m;
          return { ...rest, seq: frame.seq };
        });
        this.#touchDelivered(frame.seq);
        fx.push({ t: "acked", id: frame.id });
        return;
      }
      case "error": {
        if (frame.id === undefined) {
          // Only edits, deletions, reactions (and a refused `history`) have no id: nothing to mark
          // as failed, so say it once on screen.
          this.loadingHistory.value = false;
          this.notice.value = { code: frame.code, n: (this.notice.value?.n ?? 0) + 1 };
          return;
        }
        const id = frame.id;
        if (!this.local.value.some((m) => m.id === id && m.seq === undefined)) return;
        // The contract says: send the same id again later (too fast), or resend it (the server
        // failed to store it; section 4). Nothing was stored, so it stays "sending".
        if (frame.code === "rate_limited" || frame.code === "internal") {
          fx.push({ t: "later", id, code: frame.code });
          return;
        }
        this.local.value = this.local.value.map((m) => (m.id === id ? { ...m, failed: frame.code } : m));
        fx.push({ t: "failed", id, code: frame.code });
        return;
      }
      case "receipt":
        this.members.value = this.members.value.map((m) =>
          m.username === frame.username && frame.seq > m.readSeq ? { ...m, readSeq: frame.seq } : m,
        );
        return;
      case "presence":
        // Going offline brings when (v1.1); an older server's frame keeps what was known.
        this.members.value = this.members.value.map((m) => (m.username === frame.username ? { ...m, online: frame.online, lastSeen: frame.lastSeen ?? m.lastSeen } : m));
        this.#touchDelivered();
        return;
      case "typing":
        if (frame.username === this.me) return;
        this.#typingUntil.set(frame.username, this.now() + TYPING_TTL_MS);
        this.#publishTyping();
        return;
      case "history":
        this.loadingHistory.value = false;
        this.more.value = frame.more;
        for (const m of frame.messages) this.#items.set(m.seq, { kind: "msg", seq: m.seq, message: m });
        this.#dropLocalIn(frame.messages);
        this.#publish();
        return;
      case "profile":
        // A new display name (v1.1), or an erased account, shown from now on in every conversation.
        if (frame.deleted) markDeleted(frame.username);
        else learnNames([frame]);
        this.members.value = this.members.value.map((m) => (m.username === frame.username ? { ...m, name: frame.name, ...(frame.deleted ? { deleted: true } : {}) } : m));
        return;
      default: {
        // Frames added to the contract later are ignored (PROTOCOL.md allows servers to add types).
        const unknown: never = frame;
        return unknown;
      }
    }
  }

  /** Each seq once, in order: older ones are dropped, early ones wait for the gap to fill. */
  #offer(ev: EventFrame, fx: Effect[]): void {
    if (this.applied === null) {
      this.#buffer.set(ev.seq, ev);
      return;
    }
    if (ev.seq <= this.applied) return;
    if (ev.seq > this.applied + 1) {
      this.#buffer.set(ev.seq, ev);
      if (!this.#replaying && !this.#syncAsked) {
        this.#syncAsked = true;
        fx.push({ t: "sync", since: this.applied });
      }
      return;
    }
    this.#apply(ev, fx);
    this.#drain(fx);
    this.#publish();
  }

  #drain(fx: Effect[]): void {
    if (this.applied === null) return;
    for (const seq of [...this.#buffer.keys()]) if (seq <= this.applied) this.#buffer.delete(seq);
    for (;;) {
      const next = this.#buffer.get(this.applied + 1);
      if (!next) return;
      this.#buffer.delete(next.seq);
      this.#apply(next, fx);
    }
  }

  #synced(lastSeq: number, more: boolean, reset: boolean, fx: Effect[]): void {
    this.#replaying = false;
    this.#syncAsked = false;
    if (reset) {
      // The server can no longer replay what we missed: start again from now and reload the past.
      this.#items.clear();
      this.#buffer.clear();
      this.applied = lastSeq;
      this.more.value = true;
      this.#publish();
      this.#askHistory(fx, true);
      this.ready.value = true;
      return;
    }
    this.#drain(fx);
    this.#publish();
    if (more || this.#buffer.size > 0) {
      this.#syncAsked = true;
      this.#replaying = more;
      fx.push({ t: "sync", since: this.applied ?? lastSeq });
      return;
    }
    if (!this.ready.value) {
      this.ready.value = true;
      const shown = this.timeline.value.filter((i) => i.kind === "msg").length;
      if (shown < FIRST_SCREEN && (this.applied ?? 0) > 0) this.#askHistory(fx, shown === 0);
    }
  }

  #apply(ev: EventFrame, fx: Effect[]): void {
    this.applied = ev.seq;
    switch (ev.t) {
      case "msg": {
        const { t: _t, ...message } = ev;
        this.#items.set(ev.seq, { kind: "msg", seq: ev.seq, message });
        this.#dropLocalIn([message]);
        if (message.from === this.me) this.#touchDelivered(ev.seq);
        else {
          if (this.#typingUntil.delete(message.from)) this.#publishTyping();
          if (!this.#replaying) fx.push({ t: "incoming", message });
        }
        return;
      }
      case "edit":
        return this.#change(ev.target, (m) => ({ ...m, body: ev.body, edited: true }));
      case "delete": {
        this.#change(ev.target, (m) => {
          // Its files are deleted with it (the server answers 404 for them from now on).
          const { reactions: _r, files: _f, ...rest } = m;
          return { ...rest, body: "", deleted: true };
        });
        const item = this.#items.get(ev.target);
        if (ev.by && item?.kind === "msg" && ev.by !== item.message.from) this.#items.set(ev.target, { ...item, deletedBy: ev.by });
        return;
      }
      case "react":
        return this.#change(ev.target, (m) => ({ ...m, reactions: toggled(m.reactions ?? [], ev.emoji, ev.from, ev.on) }));
      case "member": {
        this.#items.set(ev.seq, { kind: "member", seq: ev.seq, username: ev.username, joined: ev.joined, ts: ev.ts, ...(ev.by ? { by: ev.by } : {}) });
        const others = this.members.value.filter((m) => m.username !== ev.username);
        const existing = this.members.value.find((m) => m.username === ev.username);
        const joining: Member = existing ?? { username: ev.username, name: nameOf(ev.username), online: false, readSeq: 0, ...(this.summary.value?.kind === "room" ? { role: "member" as const } : {}) };
        this.members.value = ev.joined ? [...others, joining] : others;
        if (!ev.joined && ev.username === this.me && ev.by && ev.by !== this.me && !this.#replaying) this.removedBy.value = ev.by;
        return;
      }
      case "room": {
        const before = this.summary.value;
        const changed: RoomChange = !before || before.title !== ev.title ? "title" : (before.topic ?? "") !== ev.topic ? "topic" : before.private === true !== ev.private ? "private" : "title";
        this.#items.set(ev.seq, { kind: "room", seq: ev.seq, ts: ev.ts, by: ev.by, title: ev.title, topic: ev.topic, private: ev.private, changed });
        if (before) {
          const { topic: _t, private: _p, ...rest } = before;
          this.summary.value = { ...rest, title: ev.title, ...(ev.topic ? { topic: ev.topic } : {}), ...(ev.private ? { private: true } : {}) };
        }
        return;
      }
      case "role": {
        this.#items.set(ev.seq, { kind: "role", seq: ev.seq, ts: ev.ts, by: ev.by, username: ev.username, role: ev.role });
        this.members.value = this.members.value.map((m) => (m.username === ev.username ? { ...m, role: ev.role } : m));
        const summary = this.summary.value;
        if (summary && ev.username === this.me) this.summary.value = { ...summary, role: ev.role };
        return;
      }
      default: {
        const unknown: never = ev;
        return unknown;
      }
    }
  }

  #change(target: number, f: (m: Message) => Message): void {
    const item = this.#items.get(target);
    if (item?.kind === "msg") this.#items.set(target, { ...item, message: f(item.message) });
  }

  #dropLocalIn(messages: readonly Message[]): void {
    const mine = new Set(messages.filter((m) => m.from === this.me).map((m) => m.id));
    if (mine.size > 0 && this.local.value.some((m) => mine.has(m.id))) {
      this.local.value = this.local.value.filter((m) => !mine.has(m.id));
    }
  }

  /** Acked while another member is online (or at least one reached): delivered, and it stays so. */
  #touchDelivered(seq?: number): void {
    const someoneOnline = this.members.value.some((m) => m.username !== this.me && m.online);
    if (!someoneOnline) return;
    const upTo = Math.max(seq ?? 0, this.applied ?? 0, ...this.local.value.map((m) => m.seq ?? 0));
    if (upTo > this.deliveredSeq.value) this.deliveredSeq.value = upTo;
  }

  #askHistory(fx: Effect[], newest: boolean): void {
    if (this.loadingHistory.value || !this.more.value) return;
    this.loadingHistory.value = true;
    const before = newest ? undefined : this.oldestSeq();
    if (before === 1) {
      this.loadingHistory.value = false;
      this.more.value = false;
      return;
    }
    fx.push(before === undefined ? { t: "history" } : { t: "history", before });
  }

  /**
   * What was kept for starting offline (lib/kept.ts): the state once event `applied` was in. Called
   * before the socket opens, which then resumes from `applied`: whatever changed since comes as events.
   */
  restore(k: { applied: number; items: Item[]; members: Member[] }): void {
    this.applied = k.applied;
    for (const i of k.items) this.#items.set(i.seq, i);
    this.members.value = k.members;
    this.#publish();
  }

  dismissNotice(): void {
    this.notice.value = null;
  }

  /** Older messages, when scrolled to the top. */
  loadOlder(): Effect[] {
    const fx: Effect[] = [];
    this.#askHistory(fx, this.timeline.value.length === 0);
    return fx;
  }

  oldestSeq(): number | undefined {
    return this.timeline.value[0]?.seq;
  }

  #publish(): void {
    this.timeline.value = [...this.#items.values()].sort((a, b) => a.seq - b.seq);
  }

  #publishTyping(): void {
    this.typing.value = [...this.#typingUntil.keys()];
  }

  /** Drops typing indications older than TYPING_TTL_MS; true if any remain. */
  pruneTyping(): boolean {
    const now = this.now();
    let changed = false;
    for (const [user, until] of this.#typingUntil) {
      if (until <= now) {
        this.#typingUntil.delete(user);
        changed = true;
      }
    }
    if (changed) this.#publishTyping();
    return this.#typingUntil.size > 0;
  }

  /** A message I typed (or one loaded from the outbox): shown at once as sending, or as failed. */
  addLocal(m: LocalMessage): void {
    if (this.local.value.some((x) => x.id === m.id)) return;
    if (this.timeline.value.some((i) => i.kind === "msg" && i.message.from === this.me && i.message.id === m.id)) return;
    this.local.value = [...this.local.value, m];
  }

  /** The person asked to try a failed message again: same id, so it can still be stored only once. */
  retry(id: string): LocalMessage | null {
    const m = this.local.value.find((x) => x.id === id);
    if (!m) return null;
    const { failed: _f, ...again } = m;
    this.local.value = this.local.value.map((x) => (x.id === id ? again : x));
    return again;
  }

  /** Changes a message of mine not in the log yet (an upload done, a file cancelled); null drops it. */
  setLocal(id: string, f: (m: LocalMessage) => LocalMessage | null): LocalMessage | null {
    const m = this.local.value.find((x) => x.id === id);
    const next = m ? f(m) : null;
    this.local.value = this.local.value.flatMap((x) => (x !== m ? [x] : next ? [next] : []));
    return next;
  }

  /** Messages still waiting for an ack: resent, in order, each time the socket opens. */
  unacked(): LocalMessage[] {
    return this.local.value.filter((m) => m.seq === undefined && m.failed === undefined);
  }

  tick(m: { seq?: number; failed?: string }): Tick {
    return tickOf({ ...(m.seq === undefined ? {} : { seq: m.seq }), failed: m.failed !== undefined }, this.me, this.members.value, this.deliveredSeq.value);
  }

  /** The seq to mark read: the last event applied. */
  readUpTo(): number {
    return this.applied ?? 0;
  }

  /** My read mark as the server holds it (from the welcome, then my own receipts). */
  myReadSeq(): number {
    return this.members.value.find((m) => m.username === this.me)?.readSeq ?? 0;
  }

  message(seq: number): Message | undefined {
    const item = this.#items.get(seq);
    return item?.kind === "msg" ? item.message : undefined;
  }
}

const EVENTS: ReadonlySet<string> = new Set(["msg", "edit", "delete", "react", "member", "room", "role"]);

/** Events of the log (each with its own seq), including kinds added in v1.1. */
function isEvent(frame: ServerFrame): frame is EventFrame {
  return EVENTS.has(frame.t);
}

/** Reactions as set/unset: applying the same event twice changes nothing. */
export function toggled(reactions: readonly { emoji: string; users: string[] }[], emoji: string, user: string, on: boolean) {
  const out = reactions.map((r) => ({ emoji: r.emoji, users: r.users.filter((u) => u !== user || r.emoji !== emoji) }));
  const r = out.find((x) => x.emoji === emoji);
  if (on) {
    if (r) r.users.push(user);
    else out.push({ emoji, users: [user] });
  }
  return out.filter((x) => x.users.length > 0);
}
