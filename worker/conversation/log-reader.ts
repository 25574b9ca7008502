/**
 * Reading the log back as clients see it: the events after a seq (each `msg` in its message's
 * current state, with its reactions and files), pages of history, and messages with their
 * reactions. Read-only, over the conversation's SQLite; the store delegates to it.
 */
import type { EventFrame, FileRef, Message, Reaction } from "../../protocol";
import { asRole, MESSAGE_COLUMNS, type MessageRow } from "./rows";
import { SeqCeiling } from "./seq-ceiling";

/** The conversation's files, as far as reading messages needs them (files.ts). */
export interface FileRefs {
  refsFor(seqs: readonly number[]): Map<number, FileRef[]>;
}

/**
 * The log is two tables sharing one sequence: a message's row is its own `msg` event (so a send
 * writes one row), every other event is a row of `events`. Read back, both take one shape: seq,
 * type, ts, actor, target, body, emoji, flag, then a message's client_id, body, reply_to, edited,
 * deleted (nulls for other events), then by_user and data (nulls for messages). Objects made
 * before messages left `events` still hold a `msg` row there for each message: never read.
 */
export const LOG_COLUMNS = "seq, type, ts, actor, target, body, emoji, flag, NULL, NULL, NULL, NULL, NULL, by_user, data";
export const MESSAGE_LOG_COLUMNS = "seq, 'msg', ts, sender, NULL, NULL, NULL, NULL, client_id, body, reply_to, edited, deleted, NULL, NULL";

type ReplayRow = [
  number, string, number, string, number | null, string | null, string | null, number | null,
  string | null, string | null, number | null, number | null, number | null, string | null, string | null,
];

/** A room event's stored settings (JSON we wrote ourselves; only the shape is re-checked). */
function roomData(text: string | null): { title: string; topic: string; private: boolean } {
  try {
    const v: unknown = JSON.parse(text ?? "{}");
    const o = typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
    return { title: typeof o.title === "string" ? o.title : "", topic: typeof o.topic === "string" ? o.topic : "", private: o.private === true };
  } catch {
    return { title: "", topic: "", private: false };
  }
}

/** Reaction rows, ordered by message then time, grouped by message and emoji. */
function groupReactions(rows: { target: number; emoji: string; username: string }[]): Map<number, Reaction[]> {
  const byTarget = new Map<number, Reaction[]>();
  for (const r of rows) {
    const list = byTarget.get(r.target) ?? [];
    const entry = list.find((x) => x.emoji === r.emoji);
    if (entry) entry.users.push(r.username);
    else list.push({ emoji: r.emoji, users: [r.username] });
    byTarget.set(r.target, list);
  }
  return byTarget;
}

export class LogReader {
  /** Above the messages with reactions (see SeqCeiling). */
  readonly #reacted = new SeqCeiling(() => this.sql.exec<{ s: number | null }>("SELECT max(target) AS s FROM reactions").one().s ?? 0);

  constructor(
    private readonly sql: SqlStorage,
    private readonly files: () => FileRefs | null,
  ) {}

  /** A reaction is about to be stored on message `target` (ConversationStore.react). */
  reacting(target: number): void {
    this.#reacted.raise(target);
  }

  /**
   * Events after `since`, oldest first, at most `limit`, as the frames clients replay. One query
   * reads each event with its message's current state (edits applied, deleted bodies gone); a
   * second reads the reactions of the messages in the page, and only when it holds messages.
   */
  eventsAfter(since: number, limit: number): EventFrame[] {
    // Rows as arrays (raw): a replay reads thousands, and named-row objects were most of its cost.
    const rows = [
      ...this.sql
        .exec(
          `SELECT ${LOG_COLUMNS} FROM events WHERE seq > ?1 AND type != 'msg'
           UNION ALL
           SELECT ${MESSAGE_LOG_COLUMNS} FROM messages WHERE seq > ?1
           ORDER BY 1 LIMIT ?2`,
          since, limit,
        )
        .raw<ReplayRow>(),
    ];
    let lo = 0;
    let hi = 0;
    for (const r of rows) {
      if (r[8] === null) continue;
      if (lo === 0) lo = r[0];
      hi = r[0];
    }
    const reactions = lo === 0 || this.#reacted.above([lo]) ? null : this.#reactionsBetween(lo, hi);
    const frames: EventFrame[] = [];
    for (const [seq, type, ts, actor, target, body, emoji, flag, clientId, text, replyTo, edited, deleted, by, data] of rows) {
      switch (type) {
        case "msg": {
          if (clientId === null) break; // cannot happen: every message row has its client id
          const m: EventFrame = { t: "msg", seq, id: clientId, from: actor, body: text ?? "", ts };
          if (replyTo !== null) m.replyTo = replyTo;
          if (edited) m.edited = true;
          if (deleted) m.deleted = true;
          const r = deleted ? undefined : reactions?.get(seq);
          if (r) m.reactions = r;
          frames.push(m);
          break;
        }
        case "edit":
          frames.push({ t: "edit", seq, target: target ?? 0, body: body ?? "", ts });
          break;
        case "delete":
          frames.push(by === null ? { t: "delete", seq, target: target ?? 0, ts } : { t: "delete", seq, target: target ?? 0, ts, by });
          break;
        case "react":
          frames.push({ t: "react", seq, target: target ?? 0, from: actor, emoji: emoji ?? "", on: flag === 1, ts });
          break;
        case "member":
          frames.push(by === null ? { t: "member", seq, username: actor, joined: flag === 1, ts } : { t: "member", seq, username: actor, joined: flag === 1, ts, by });
          break;
        case "room":
          frames.push({ t: "room", seq, ...roomData(data), by: actor, ts });
          break;
        case "role":
          frames.push({ t: "role", seq, username: actor, role: asRole(emoji ?? ""), by: by ?? "", ts });
          break;
      }
    }
    return this.#withFiles(frames);
  }

  /** The `limit` messages just before `before` (the newest when undefined), ascending. */
  history(before: number | undefined, limit: number): { messages: Message[]; more: boolean } {
    const below = before ?? Number.MAX_SAFE_INTEGER;
    const rows = this.sql
      .exec<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE seq < ? ORDER BY seq DESC LIMIT ?`, below, limit + 1)
      .toArray();
    const more = rows.length > limit;
    const page = rows.slice(0, limit).reverse();
    return { messages: this.withReactions(page), more };
  }

  /** Reactions on messages lo..hi, grouped by message and emoji, in the order they were given. */
  #reactionsBetween(lo: number, hi: number): Map<number, Reaction[]> {
    return groupReactions(
      this.sql
        .exec<{ target: number; emoji: string; username: string }>(
          "SELECT target, emoji, username FROM reactions WHERE target BETWEEN ? AND ? ORDER BY target, at, emoji, username",
          lo, hi,
        )
        .toArray(),
    );
  }

  /** Reactions on the given messages (a page of history, or scattered search hits). */
  #reactionsOf(seqs: number[]): Map<number, Reaction[]> {
    if (this.#reacted.above(seqs)) return new Map();
    return groupReactions(
      this.sql
        .exec<{ target: number; emoji: string; username: string }>(
          "SELECT target, emoji, username FROM reactions WHERE target IN (SELECT value FROM json_each(?)) ORDER BY target, at, emoji, username",
          JSON.stringify(seqs),
        )
        .toArray(),
    );
  }

  /** Messages with their reactions, read for exactly these messages (one query). */
  withReactions(rows: MessageRow[]): Message[] {
    if (rows.length === 0) return [];
    const byTarget = this.#reactionsOf(rows.map((r) => r.seq));
    return this.#withFiles(rows.map((r) => {
      const m: Message = { seq: r.seq, id: r.client_id, from: r.sender, body: r.body, ts: r.ts };
      if (r.reply_to !== null) m.replyTo = r.reply_to;
      if (r.edited) m.edited = true;
      if (r.deleted) m.deleted = true;
      const reactions = byTarget.get(r.seq);
      if (reactions && !r.deleted) m.reactions = reactions;
      return m;
    }));
  }

  /** Sets `files` on the messages (and `msg` events) that have some; one query for the lot. */
  #withFiles<T extends EventFrame | Message>(list: T[]): T[] {
    const files = this.files();
    if (!files) return list;
    const isMessage = (m: EventFrame | Message) => !("t" in m) || m.t === "msg";
    const seqs: number[] = [];
    for (const m of list) if (isMessage(m)) seqs.push(m.seq);
    const bySeq = files.refsFor(seqs);
    if (bySeq.size === 0) return list;
    for (const m of list) {
      const files = isMessage(m) ? bySeq.get(m.seq) : undefined;
      if (files) (m as Message).files = files;
    }
    return list;
  }
}
