/**
 * The user's conversation index: one row per conversation, kept current by the conversation
 * objects' notifications while an inbox is open, and refreshed with exact figures otherwise. Counting is idempotent: each seq is counted at most once (notified_seq),
 * so a retried or repeated batch never counts twice, and a read resets the count to the exact
 * figure the conversation computed.
 *
 * Unread mentions of me are kept as the set of their seqs (`unread_mentions`), beside `unread` and
 * by the same rules: added once per seq, taken off by a deletion of that seq or a read mark past
 * it, and replaced by the conversation's exact set whenever `unread` is.
 */
import type { ActivityFrame, ConversationKind, InboxReadFrame, Message, Summary } from "../../protocol";
import type { ActivityBatch, IndexEntry } from "./types";

interface ConvRow extends Record<string, SqlStorageValue> {
  id: string;
  kind: string;
  title: string;
  peer: string | null;
  members: number | null;
  private: number;
  role: string | null;
  topic: string | null;
  muted: number;
  last_seq: number;
  read_seq: number;
  unread: number;
  last: string | null;
  /** Not a column: counted from unread_mentions by the queries below. */
  mentions: number;
}

const WITH_MENTIONS = "SELECT convs.*, (SELECT count(*) FROM unread_mentions m WHERE m.conv = convs.id) AS mentions FROM convs";

/** `last` is JSON we wrote ourselves from a Message; only its shape is re-checked. */
function parseLast(text: string | null): Message | undefined {
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null || !("seq" in v) || !("from" in v)) return undefined;
    return v as Message;
  } catch {
    return undefined;
  }
}

function toSummary(row: ConvRow): Summary {
  const kind: ConversationKind = row.kind === "dm" ? "dm" : "room";
  const s: Summary = { id: row.id, kind, title: row.title, lastSeq: row.last_seq, readSeq: row.read_seq, unread: row.unread };
  if (row.peer !== null) s.peer = row.peer;
  if (row.members !== null) s.members = row.members;
  if (row.private) s.private = true;
  if (row.role === "owner" || row.role === "admin" || row.role === "member") s.role = row.role;
  if (row.topic) s.topic = row.topic;
  if (row.mentions > 0) s.mentions = row.mentions;
  if (row.muted) s.muted = true;
  const last = parseLast(row.last);
  if (last) s.last = last;
  return s;
}

export class ConversationIndex {
  constructor(private readonly sql: SqlStorage) {}

  has(id: string): boolean {
    return this.sql.exec("SELECT 1 FROM convs WHERE id = ?", id).toArray().length > 0;
  }

  /** My conversations, the most recently active first. */
  ids(): string[] {
    return this.sql.exec<{ id: string }>("SELECT id FROM convs ORDER BY updated DESC").toArray().map((r) => r.id);
  }

  /** Mutes or unmutes a conversation of mine (7.6); true when that changed anything. */
  setMuted(id: string, muted: boolean): boolean {
    return this.sql.exec("UPDATE convs SET muted = ? WHERE id = ? AND muted <> ?", muted ? 1 : 0, id, muted ? 1 : 0).rowsWritten > 0;
  }

  isMuted(id: string): boolean {
    return this.sql.exec("SELECT 1 FROM convs WHERE id = ? AND muted = 1", id).toArray().length > 0;
  }

  /** DM peers: the people whose presence I always want to know. */
  peers(): string[] {
    return this.sql.exec<{ peer: string }>("SELECT peer FROM convs WHERE peer IS NOT NULL").toArray().map((r) => r.peer);
  }

  /**
   * Adds or refreshes a conversation; the entry's counts are exact as of its lastSeq. Null when I
   * left it at a later seq than the entry describes (a late call from before I left).
   */
  upsert(entry: IndexEntry, now: number): Summary | null {
    const left = this.sql.exec<{ seq: number }>("SELECT seq FROM left_convs WHERE id = ?", entry.id).toArray()[0];
    if (left && left.seq > entry.lastSeq) return null;
    if (left) this.sql.exec("DELETE FROM left_convs WHERE id = ?", entry.id);
    const counted = this.#notifiedSeq(entry.id);
    this.sql.exec(
      `INSERT INTO convs (id, kind, title, peer, members, private, last_seq, read_seq, unread, notified_seq, last, updated, role, topic)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET title = excluded.title, members = excluded.members,
         private = excluded.private, role = excluded.role, topic = excluded.topic,
         unread = CASE WHEN excluded.last_seq >= notified_seq THEN excluded.unread ELSE unread END,
         last = CASE WHEN excluded.last_seq >= last_seq THEN excluded.last ELSE last END,
         last_seq = max(last_seq, excluded.last_seq), read_seq = max(read_seq, excluded.read_seq),
         notified_seq = max(notified_seq, excluded.last_seq)`,
      entry.id, entry.kind, entry.title, entry.peer ?? null, entry.members ?? null, entry.private ? 1 : 0,
      entry.lastSeq, entry.readSeq, entry.unread, entry.lastSeq, entry.last ? JSON.stringify(entry.last) : null,
      entry.last?.ts ?? now, entry.role ?? null, entry.topic ?? null,
    );
    this.#exactMentions(entry, counted);
    return this.summary(entry.id);
  }

  /**
   * Replaces a conversation's counts with the exact figures its object computed (an inbox opening,
   * or a list asked for while none was open). A row that is already newer keeps its counts.
   */
  refresh(entry: IndexEntry): void {
    const counted = this.#notifiedSeq(entry.id);
    if (counted === null) return;
    this.sql.exec(
      `UPDATE convs SET title = ?, members = ?, private = ?, role = ?, topic = ?, read_seq = max(read_seq, ?),
         unread = CASE WHEN ? >= notified_seq THEN ? ELSE unread END,
         last = CASE WHEN ? >= last_seq THEN ? ELSE last END,
         updated = max(updated, ?), last_seq = max(last_seq, ?), notified_seq = max(notified_seq, ?)
       WHERE id = ?`,
      entry.title, entry.members ?? null, entry.private ? 1 : 0, entry.role ?? null, entry.topic ?? null, entry.readSeq, entry.lastSeq, entry.unread,
      entry.lastSeq, entry.last ? JSON.stringify(entry.last) : null,
      entry.last?.ts ?? 0, entry.lastSeq, entry.lastSeq, entry.id,
    );
    this.#exactMentions(entry, counted);
  }

  #notifiedSeq(id: string): number | null {
    return this.sql.exec<{ n: number }>("SELECT notified_seq AS n FROM convs WHERE id = ?", id).toArray()[0]?.n ?? null;
  }

  /**
   * The conversation's exact set of my unread mentions replaces mine when `unread` was replaced
   * too (the entry is not older than what I counted before it: `counted`); either way none at or
   * before my read mark stays.
   */
  #exactMentions(entry: IndexEntry, counted: number | null): void {
    if (counted === null || entry.lastSeq >= counted) this.#replaceMentions(entry.id, entry.mentionSeqs ?? []);
    else this.#dropRead(entry.id);
  }

  #replaceMentions(conv: string, seqs: readonly number[]): void {
    this.sql.exec("DELETE FROM unread_mentions WHERE conv = ?", conv);
    for (const seq of seqs) this.sql.exec("INSERT OR IGNORE INTO unread_mentions (conv, seq) VALUES (?, ?)", conv, seq);
    this.#dropRead(conv);
  }

  #dropRead(conv: string): void {
    this.sql.exec("DELETE FROM unread_mentions WHERE conv = ? AND seq <= (SELECT read_seq FROM convs WHERE id = ?)", conv, conv);
  }

  /** How many unread messages mention me in `conv`. */
  mentions(conv: string): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM unread_mentions WHERE conv = ?", conv).one().n;
  }

  /**
   * I am not a member as of `seq`: the row goes, unless it describes a later seq (I joined again
   * and heard of it first). Remembered, so that a late add from before cannot bring it back.
   * True when a row was removed.
   */
  remove(id: string, seq: number): boolean {
    this.sql.exec(
      "INSERT INTO left_convs (id, seq) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET seq = max(seq, excluded.seq)",
      id, seq,
    );
    if (this.sql.exec("DELETE FROM convs WHERE id = ? AND last_seq <= ?", id, seq).rowsWritten === 0) return false;
    this.sql.exec("DELETE FROM unread_mentions WHERE conv = ?", id);
    return true;
  }

  /** The seq a row describes, for a removal that knows no seq of its own. */
  lastSeqOf(id: string): number | null {
    return this.sql.exec<{ last_seq: number }>("SELECT last_seq FROM convs WHERE id = ?", id).toArray()[0]?.last_seq ?? null;
  }

  summary(id: string): Summary | null {
    const row = this.sql.exec<ConvRow>(`${WITH_MENTIONS} WHERE id = ?`, id).toArray()[0];
    return row ? toSummary(row) : null;
  }

  /** Most recent activity first. */
  summaries(): Summary[] {
    return this.sql.exec<ConvRow>(`${WITH_MENTIONS} ORDER BY updated DESC, id`).toArray().map(toSummary);
  }

  /**
   * Applies a batch; returns one `activity` frame per message not seen before (or a `read` frame
   * with the new count when only deletions changed it).
   */
  apply(me: string, batch: ActivityBatch): (ActivityFrame | InboxReadFrame)[] {
    const row = this.sql
      .exec<{ read_seq: number; notified_seq: number; unread: number; updated: number }>(
        "SELECT read_seq, notified_seq, unread, updated FROM convs WHERE id = ?",
        batch.conv,
      )
      .toArray()[0];
    if (!row) return [];
    const mentionsBefore = this.mentions(batch.conv);
    let { unread, updated } = row;
    let notified = row.notified_seq;
    const fresh: ActivityBatch["items"] = [];
    for (const item of batch.items) {
      if (item.seq <= notified) continue;
      notified = item.seq;
      if (item.deleted) continue;
      updated = Math.max(updated, item.ts);
      if (item.from !== me && item.seq > row.read_seq) {
        unread++;
        if (item.mentions?.includes(me)) this.sql.exec("INSERT OR IGNORE INTO unread_mentions (conv, seq) VALUES (?, ?)", batch.conv, item.seq);
      }
      fresh.push(item);
    }
    for (const d of batch.deleted) {
      // Only a message counted in an earlier batch, from someone else, still unread, is taken off.
      if (d.seq <= row.notified_seq) continue;
      // A deleted mention is no longer one (a no-op for any other message).
      this.sql.exec("DELETE FROM unread_mentions WHERE conv = ? AND seq = ?", batch.conv, d.target);
      if (d.from !== me && d.target > row.read_seq && d.target <= row.notified_seq) unread = Math.max(0, unread - 1);
      notified = Math.max(notified, d.seq);
    }
    this.sql.exec(
      `UPDATE convs SET unread = ?, notified_seq = ?, updated = ?, members = coalesce(?, members),
         last = CASE WHEN ? >= last_seq THEN ? ELSE last END, last_seq = max(last_seq, ?) WHERE id = ?`,
      unread, notified, updated, batch.members ?? null, batch.lastSeq, batch.last ? JSON.stringify(batch.last) : null, batch.lastSeq, batch.conv,
    );
    // Each frame carries the counts after its own message, so a badge can follow them one by one.
    const counts = (i: ActivityBatch["items"][number]) => i.from !== me && i.seq > row.read_seq;
    const mentioned = (i: ActivityBatch["items"][number]) => counts(i) && i.mentions?.includes(me) === true;
    const mentionsNow = this.mentions(batch.conv);
    let running = unread - fresh.filter(counts).length;
    let runningMentions = mentionsNow - fresh.filter(mentioned).length;
    const frames: (ActivityFrame | InboxReadFrame)[] = fresh.map((i) => {
      if (counts(i)) running++;
      if (mentioned(i)) runningMentions++;
      return { t: "activity", conv: batch.conv, seq: i.seq, from: i.from, preview: i.preview, ts: i.ts, unread: running, mentions: runningMentions };
    });
    // Only deletions changed a count: no activity carries it, so the badge is told with `read`
    // (the mark where it was, the new counts), which every client applies as "unread is now".
    if (frames.length === 0 && (unread !== row.unread || mentionsNow !== mentionsBefore)) {
      frames.push({ t: "read", conv: batch.conv, seq: row.read_seq, unread, mentions: mentionsNow });
    }
    return frames;
  }

  /**
   * My read mark moved to `seq`; `unread` and `mentionSeqs` are exact as of `asOf`. A figure older than what the row
   * already counted (an activity newer than it was applied first) is not applied over it: the
   * mark moves, and the caller asks the conversation for an exact figure ("stale"). Returns
   * "ahead" when the mark was not behind `seq`.
   */
  readMoved(conv: string, seq: number, unread: number, asOf: number, mentionSeqs: readonly number[]): "applied" | "stale" | "ahead" {
    const row = this.sql.exec<{ read_seq: number; notified_seq: number }>("SELECT read_seq, notified_seq FROM convs WHERE id = ?", conv).toArray()[0];
    if (!row || row.read_seq >= seq) return "ahead";
    if (asOf < row.notified_seq) {
      this.sql.exec("UPDATE convs SET read_seq = ? WHERE id = ?", seq, conv);
      this.#dropRead(conv);
      return "stale";
    }
    this.sql.exec("UPDATE convs SET read_seq = ?, unread = ?, notified_seq = ? WHERE id = ?", seq, unread, asOf, conv);
    this.#replaceMentions(conv, mentionSeqs);
    return "applied";
  }
}
