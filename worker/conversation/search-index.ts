/**
 * Full-text search of one conversation: a trigram FTS5 index (any script, Chinese included),
 * built off the send path in slices, and queried without ever building it inside a request.
 *
 * A trigram index costs many page writes per message, so sends only move a cursor-less backlog;
 * a timer a moment later indexes a slice at a time with a turn of the event loop between slices
 * (one long slice would hold up every send that arrives meanwhile). A search made before the
 * indexer caught up also scans the few messages it has not reached yet, bounded by INDEX_BACKLOG_SCAN.
 */
import type { Message } from "../../protocol";
import { MESSAGE_COLUMNS, type ConversationStore, type MessageRow } from "./store";

/** Sends are added to the index this long after the first of them... */
const INDEX_DELAY_MS = 1000;
/** ...this many per turn of the event loop. */
export const INDEX_SLICE = 25;
/** Most unindexed messages a query also scans directly (the indexer's backlog, normally small). */
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
      return rows.length;
    });
  }

  /** Indexes recent sends a moment from now, a slice per turn. */
  schedule(delay = INDEX_DELAY_MS): void {
    if (this.#timer !== null) return;
    this.ctx.waitUntil(
      new Promise<void>((resolve) => {
        this.#timer = setTimeout(() => {
          this.#timer = null;
          try {
            if (this.indexPending(INDEX_SLICE) === INDEX_SLICE) this.schedule(0);
          } catch (err) {
            // The next send or alarm schedules it again; queries scan the backlog meanwhile.
            console.error("conversation: indexing failed", err instanceof Error ? err.name : typeof err);
          }
          resolve();
        }, delay);
      }),
    );
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
