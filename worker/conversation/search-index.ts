/**
 * Full-text search of one conversation: a trigram FTS5 index (any script, Chinese included),
 * built off the send path in slices, and queried without ever building it inside a request.
 *
 * A trigram index costs many page writes per message, so sends only grow a backlog; the indexer
 * runs once the conversation has been quiet for a moment, or once the backlog fills a batch,
 * whichever comes first, a slice at a time with a turn of the event loop between slices (one long
 * slice would hold up every send that arrives meanwhile). Each slice is one transaction and one new
 * segment of the FTS index: under a steady stream, indexing every second in small slices made
 * many small segments for SQLite to merge and write again: 20 DMs on this machine's disk sent
 * about 40 % more messages per second in a build without indexing (issue 17, BENCHMARKS.md). A
 * search made before the indexer caught up also scans the messages it has not reached yet: the
 * batch is well under INDEX_BACKLOG_SCAN, so none is missed.
 */
import type { Message } from "../../protocol";
import { MESSAGE_COLUMNS, type ConversationStore, type MessageRow } from "./store";

/** Sends are indexed once none came for this long... */
export const INDEX_QUIET_MS = 1000;
/** ...or once this many wait, */
export const INDEX_BATCH = 200;
/** this many per turn of the event loop. */
export const INDEX_SLICE = 100;
/** Most unindexed messages a query also scans directly (the indexer's backlog, under a batch or two). */
export const INDEX_BACKLOG_SCAN = 500;
/** Shortest query: trigram tokens need three characters. */
export const SEARCH_MIN_CHARS = 3;
/** Most results. */
export const SEARCH_LIMIT = 50;

/** Escapes a user's text for an FTS5 phrase query: one quoted string, quotes doubled. */
function ftsPhrase(q: string): string {
  return `"${q.replaceAll('"', '""')}"`;
}

export type SearchResult = { ok: true; messages: Message[] } | { ok: false; reason: "too_short" };

export class SearchIndex {
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Ends the pending timer's promise (the object's waitUntil) once it ran or was replaced. */
  #done: (() => void) | null = null;
  /** The pending timer runs the indexer at once (a full batch), not after a quiet wait. */
  #immediate = false;
  /** When the last send came (for the quiet wait). */
  #quietSince = 0;
  /** The last seq the index holds, as last read or written (null until needed). */
  #indexed: number | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly store: ConversationStore,
    private readonly ctx: DurableObjectState,
  ) {}

  #cursor(): number {
    return this.sql.exec<{ seq: number }>("SELECT seq FROM fts_cursor WHERE id = 1").one().seq;
  }

  /**
   * Adds up to `max` messages not yet in the index (deleted ones are skipped), in one transaction.
   * Returns how many messages it looked at.
   */
  indexPending(max = INDEX_BACKLOG_SCAN): number {
    return this.store.atomic(() => {
      const rows = this.sql
        .exec<{ seq: number; body: string; deleted: number }>("SELECT seq, body, deleted FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", this.#cursor(), max)
        .toArray();
      for (const r of rows) if (!r.deleted) this.sql.exec("INSERT INTO messages_fts (rowid, body) VALUES (?, ?)", r.seq, r.body);
      if (rows.length > 0) this.sql.exec("UPDATE fts_cursor SET seq = ? WHERE id = 1", rows[rows.length - 1]!.seq);
      this.#indexed = rows.length > 0 ? rows[rows.length - 1]!.seq : null;
      return rows.length;
    });
  }

  /**
   * A message was stored (`seq`): the indexer runs once sends pause for INDEX_QUIET_MS, at once
   * when INDEX_BATCH wait. The backlog is counted in memory, from the seq the index holds.
   */
  sent(seq: number): void {
    this.#quietSince = Date.now();
    try {
      this.#indexed ??= this.#cursor();
    } catch {
      // No index table (storage erased meanwhile): nothing to schedule.
      return;
    }
    this.schedule(seq - this.#indexed >= INDEX_BATCH ? 0 : INDEX_QUIET_MS);
  }

  /** Indexes what waits, `delay` from now (0: at once; else later if sends keep coming), a slice per turn. */
  schedule(delay = INDEX_QUIET_MS): void {
    if (this.#timer !== null) {
      // A timer due at once will do, and so will any for a caller who can wait. A timer that is
      // replaced is never pushed back by new sends: only "at once" replaces one.
      if (this.#immediate || delay > 0) return;
      clearTimeout(this.#timer);
      this.#finish();
    }
    this.#immediate = delay === 0;
    this.ctx.waitUntil(
      new Promise<void>((resolve) => {
        this.#done = resolve;
        this.#timer = setTimeout(() => this.#run(delay > 0), delay);
      }),
    );
  }

  #finish(): void {
    const done = this.#done;
    this.#timer = null;
    this.#done = null;
    this.#immediate = false;
    done?.();
  }

  #run(waited: boolean): void {
    this.#finish();
    // Sends came meanwhile: wait for the rest of their quiet (a full batch cuts it short).
    const rest = waited ? this.#quietSince + INDEX_QUIET_MS - Date.now() : 0;
    if (rest > 0) return this.schedule(rest);
    try {
      if (this.indexPending(INDEX_SLICE) === INDEX_SLICE) this.schedule(0);
    } catch (err) {
      // The next send or alarm schedules it again; queries scan the backlog meanwhile.
      console.error("conversation: indexing failed", err instanceof Error ? err.name : typeof err);
    }
  }

  /** Whether messages wait to be indexed (the alarm restarts an indexer that an eviction stopped). */
  behind(): boolean {
    return this.store.lastMessageSeq() > this.#cursor();
  }

  /**
   * Current message bodies containing `q`, newest first. Reads at most SEARCH_LIMIT index hits
   * plus the indexer's backlog (bounded): never a scan of the whole table, never indexing here.
   */
  search(q: string, limit = SEARCH_LIMIT): SearchResult {
    const text = q.trim();
    if ([...text].length < SEARCH_MIN_CHARS) return { ok: false, reason: "too_short" };
    const cursor = this.#cursor();
    const backlog = this.sql
      .exec<MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM (SELECT ${MESSAGE_COLUMNS} FROM messages WHERE seq > ? ORDER BY seq LIMIT ?)
          WHERE deleted = 0 AND instr(lower(body), lower(?)) > 0 ORDER BY seq DESC LIMIT ?`,
        cursor, INDEX_BACKLOG_SCAN, text, limit,
      )
      .toArray();
    const indexed = this.sql
      .exec<MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE seq IN
           (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?)
         ORDER BY seq DESC`,
        ftsPhrase(text), limit,
      )
      .toArray();
    const seen = new Set(backlog.map((r) => r.seq));
    const rows = [...backlog, ...indexed.filter((r) => !seen.has(r.seq))].slice(0, limit);
    return { ok: true, messages: this.store.withReactions(rows) };
  }
}
