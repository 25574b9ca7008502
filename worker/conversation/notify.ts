/**
 * Telling watching members' user objects (those with an inbox open) about new messages, off the
 * send path, at least once. One round at a time takes every event since the last round (so a
 * burst of sends becomes one call per member) and calls the members in parallel. A member whose
 * previous call has not returned is not called again: it is owed the events instead, and gets
 * them all in one call as soon as it answers, so a slow or absent member never holds up the
 * others. Failures are owed too, and the alarm retries them.
 *
 * Nothing is forgotten before it is done: the cursor moves past a round only once every call of
 * that round has returned or been written down as owed, and a debt is cleared only after the call
 * that paid it returned. The cursor is kept in memory and written a moment after it moves
 * (CURSOR_SAVE_DELAY_MS, one commit for all the rounds meanwhile) and by the alarm, never on a
 * send's path: a send's one durable write is its message. An object reset therefore starts again
 * from the last cursor written, at or before every round not finished (the alarm starts that round
 * again), and may repeat rounds that had finished. Repeats are harmless: the user object counts
 * each seq once and ignores figures older than it holds.
 *
 * Why not the alarm alone: an object is put out of memory between two alarms whenever it is idle
 * for less than a heartbeat interval (hibernation, and `wrangler dev` after ten seconds). Each wake
 * then read the cursor written before the last round, found events untold, set the alarm again and
 * ran the round again, and the cursor it moved was lost with the next eviction: every conversation
 * that had ever had a message woke every interval, for ever, and its watchers were sent the same
 * batch each time (issue 17, BENCHMARKS.md, fifteenth session).
 */
import type { ActivityBatch, ActivityItem } from "../user";
import type { ConversationStore } from "./store";
import { mentions } from "../../protocol/markup";
import { messagePreview } from "./files";
import { WriteBehind } from "../write-behind";

/**
 * How long a round waits before it starts, by conversation size: messages that arrive meanwhile
 * join the round, so under load a member's object gets one call per round, not one per message.
 * A DM goes at once; in a room a badge may lag the message by up to a second (two above 100
 * members), which is what lets a busy room cost its members' objects a few calls a second.
 */
export function roundDelayMs(members: number): number {
  if (members <= 2) return 0;
  if (members <= 100) return 1000;
  return 2000;
}
/** Most events one batch covers; a longer backlog goes in several batches. */
export const NOTIFY_BATCH_EVENTS = 500;
export const PREVIEW_CHARS = 140;
/** A round waits at most this long for its calls before the next round may start. */
export const ROUND_WAIT_MS = 500;
/** The cursor is written this long after it first moved (rounds meanwhile share the commit). */
export const CURSOR_SAVE_DELAY_MS = 2000;

export const NOTIFY_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS notify_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS notify_retry (username TEXT PRIMARY KEY, since INTEGER NOT NULL)`,
];

export type Deliver = (username: string, batch: ActivityBatch) => Promise<void>;

export interface NotifierHooks {
  convId: () => string;
  deliver: Deliver;
  /** Members to tell: an inbox open, or (v1.1) push subscriptions (the presence table knows). */
  watchers: () => string[];
  /** A debt was written down: the alarm must come back to pay it. */
  owing: () => void;
}

export class Notifier {
  #running: Promise<void> | null = null;
  #again = false;
  /** Calls under way, by member: in memory only (after a restart nothing is under way). */
  readonly #inFlight = new Map<string, Promise<void>>();
  /** The cursor: every event up to it is told to every watcher or owed (written by persist()). */
  #stored: number | undefined;
  /** The cursor as last written to storage. */
  #persisted: number | undefined;
  /** Where the next round starts: past the rounds under way (in memory only). */
  #sent: number | undefined;
  /** Rounds whose calls have not all returned, oldest first: the stored cursor waits for them. */
  readonly #open: { since: number; upTo: number; done: boolean }[] = [];
  /** Writes the cursor a moment after it moved (the key is the cursor's one row). */
  readonly #saves = new WriteBehind<1>(CURSOR_SAVE_DELAY_MS, () => this.persist());

  constructor(
    private readonly sql: SqlStorage,
    private readonly store: ConversationStore,
    private readonly hooks: NotifierHooks,
  ) {
    // A cursor moved inside a transaction that rolled back must not stay ahead of the stored one.
    store.onRollback(() => {
      this.#stored = undefined;
      this.#persisted = undefined;
      this.#sent = undefined;
    });
  }

  #written(): number {
    this.#persisted ??= this.sql.exec<{ seq: number }>("SELECT seq FROM notify_cursor WHERE id = 1").toArray()[0]?.seq ?? 0;
    return this.#persisted;
  }

  /** The cursor (after a wake, the one last written). */
  cursor(): number {
    this.#stored ??= this.#written();
    return this.#stored;
  }

  /** Writes the cursor if it moved since it was last written (the alarm's share). */
  persist(): void {
    const seq = this.cursor();
    if (seq > this.#written()) this.#write(seq);
  }

  #write(seq: number): void {
    this.sql.exec("INSERT INTO notify_cursor (id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seq = max(seq, excluded.seq)", seq);
    this.#persisted = Math.max(this.#written(), seq);
  }

  /** Moves the cursor in memory (written a moment later, by persist()). */
  #pass(seq: number): void {
    if (seq <= this.cursor()) return;
    this.#stored = seq;
    if (seq > this.#written()) this.#saves.changed(1);
  }

  #next(): number {
    this.#sent ??= this.cursor();
    return this.#sent;
  }

  /**
   * Marks everything up to `seq` as told, written at once: a new conversation's first events,
   * which nobody must be told even after a reset (the rounds' own progress waits for the alarm).
   */
  advanceTo(seq: number): void {
    if (seq <= this.cursor()) return;
    this.#write(seq);
    this.#pass(seq);
    this.#sent = Math.max(this.#next(), seq);
  }

  /** Events not yet told to everyone, a cursor not yet written, or debts: the alarm must come back. */
  pending(): boolean {
    return this.cursor() < this.store.lastSeq() || this.#written() < this.cursor() ||
      this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM notify_retry").one().n > 0;
  }

  /** Starts a round unless one runs; a send during a round makes it go round once more. */
  schedule(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = null;
    });
  }

  /**
   * The alarm's share, bounded and never waited on by the alarm: a round if events are untold
   * (after a reset nothing else would start one), and a call to each member owed events.
   */
  tick(): void {
    this.persist();
    if (this.#next() < this.store.lastSeq() || (this.#open.length === 0 && this.cursor() < this.#next())) this.schedule();
    this.retry();
  }

  /** Waits for the current round and every call under way (tests use it). */
  async settle(): Promise<void> {
    while (this.#running || this.#inFlight.size > 0) {
      await this.#running;
      await Promise.allSettled([...this.#inFlight.values()]);
    }
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      const delay = roundDelayMs(this.store.memberCount());
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      await this.flush();
    } while (this.#again || this.#next() < this.store.lastSeq());
  }

  batch(since: number): { batch: ActivityBatch; upTo: number } {
    const events = this.store.eventsAfter(since, NOTIFY_BATCH_EVENTS);
    const upTo = events.length > 0 ? events[events.length - 1]!.seq : since;
    const batch: ActivityBatch = {
      conv: this.hooks.convId(),
      lastSeq: this.store.lastSeq(),
      last: this.store.lastMessage() ?? null,
      items: [],
      deleted: [],
    };
    if (this.store.meta()?.kind === "room") batch.members = this.store.memberCount();
    // v1.1 (7.6): senders' display names, for pushes; one lookup per sender and batch.
    const names = new Map<string, string>();
    const nameOf = (u: string) => {
      const known = names.get(u);
      if (known !== undefined) return known;
      const name = this.store.member(u)?.name ?? u;
      names.set(u, name);
      return name;
    };
    for (const e of events) {
      if (e.t === "msg") {
        if (e.deleted) {
          batch.items.push({ seq: e.seq, from: e.from, preview: "", ts: e.ts, deleted: true });
          continue;
        }
        const item: ActivityItem = { seq: e.seq, from: e.from, name: nameOf(e.from), preview: messagePreview(e).slice(0, PREVIEW_CHARS), ts: e.ts };
        const who = mentions(e.body);
        if (who.length > 0) item.mentions = who;
        batch.items.push(item);
      } else if (e.t === "delete") {
        const target = this.store.message(e.target);
        if (target) batch.deleted.push({ target: e.target, from: target.from, seq: e.seq });
      }
    }
    return { batch, upTo };
  }

  /** Records that `username` is owed every event after `since`. */
  #owe(username: string, since: number): void {
    this.sql.exec(
      "INSERT INTO notify_retry (username, since) VALUES (?, ?) ON CONFLICT (username) DO UPDATE SET since = min(since, excluded.since)",
      username, since,
    );
    this.hooks.owing();
  }

  #owed(username: string): number | null {
    return this.sql.exec<{ since: number }>("SELECT since FROM notify_retry WHERE username = ?", username).toArray()[0]?.since ?? null;
  }

  /**
   * `username` now has every event up to `upTo`: what it is still owed starts after that (null
   * when nothing). A debt is cleared only here, after the call that paid it returned.
   */
  #paid(username: string, upTo: number): number | null {
    const owed = this.#owed(username);
    if (owed === null) return null;
    const from = Math.max(owed, upTo);
    if (from >= this.store.lastSeq()) {
      this.sql.exec("DELETE FROM notify_retry WHERE username = ?", username);
      return null;
    }
    if (from !== owed) this.sql.exec("UPDATE notify_retry SET since = ? WHERE username = ?", from, username);
    return from;
  }

  /**
   * Calls one member with the events after `since`, then, while it is owed more, calls it again
   * with all it is owed. A failure writes the debt down for the alarm.
   */
  #call(username: string, since: number, first?: { batch: ActivityBatch; upTo: number }): Promise<void> {
    const call = (async () => {
      let from = since;
      let next = first ?? this.batch(from);
      for (;;) {
        try {
          await this.hooks.deliver(username, next.batch);
        } catch {
          this.#owe(username, from);
          return;
        }
        const owed = this.#paid(username, next.upTo);
        if (owed === null) return;
        from = owed;
        next = this.batch(from);
      }
    })().finally(() => this.#inFlight.delete(username));
    this.#inFlight.set(username, call);
    return call;
  }

  /** One round: every watcher gets the events since the last round, or is owed them if still busy. */
  async flush(): Promise<void> {
    const since = this.#next();
    const lastSeq = this.store.lastSeq();
    if (since >= lastSeq) return;
    // Members with an inbox open: the others get exact counts when they next open one (or ask
    // over HTTP), so a room of people who are not looking costs no calls at all, and no batch
    // is even read for them (in a DM, where rounds start at once, that read was a quarter of
    // the cost of a send).
    const watchers = this.hooks.watchers();
    if (watchers.length === 0 && this.#open.length === 0) {
      this.#pass(lastSeq);
      this.#sent = Math.max(this.#next(), lastSeq);
      return;
    }
    const first = this.batch(since);
    const round = { since, upTo: first.upTo, done: false };
    this.#open.push(round);
    this.#sent = first.upTo;
    const calls: Promise<void>[] = [];
    for (const username of watchers) {
      if (this.#inFlight.has(username)) this.#owe(username, since);
      else calls.push(this.#call(username, since, first));
    }
    const all = Promise.allSettled(calls).then(() => {
      round.done = true;
      this.#storeProgress();
    });
    // Wait for the fast majority (that is what coalesces the next round), never for the slowest.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([all, new Promise<void>((r) => {
      timer = setTimeout(r, ROUND_WAIT_MS);
    })]);
    clearTimeout(timer);
  }

  /** Moves the cursor past every finished round that no unfinished round precedes. */
  #storeProgress(): void {
    let upTo: number | null = null;
    while (this.#open.length > 0 && this.#open[0]!.done) upTo = this.#open.shift()!.upTo;
    if (upTo !== null) this.#pass(upTo);
  }

  /** Calls the members that are owed events and not busy (from the alarm); the calls are not waited on. */
  retry(): Promise<void> {
    const rows = this.sql.exec<{ username: string; since: number }>("SELECT username, since FROM notify_retry").toArray();
    const calls = rows.filter(({ username }) => !this.#inFlight.has(username)).map(({ username, since }) => this.#call(username, since));
    return Promise.allSettled(calls).then(() => {});
  }
}
