/**
 * The per-user daily upload quota (PROTOCOL.md 7.5: files per user, 200 MiB a day), held in the
 * user's own object so that it covers every conversation at once.
 *
 * Reserve before, settle after: an upload reserves its declared size before a byte is read, in one
 * synchronous call (the object runs one call at a time and SQLite writes in it are atomic), so N
 * uploads in parallel can never together pass the quota that N uploads one after another would hit.
 * When the upload ends the reservation is settled: kept at the bytes actually stored, or released
 * when nothing was stored. A window of 24 hours slides over the rows, like the room budget.
 */

export const FILE_QUOTA_SCHEMA = [
  // One row per upload in the last 24 hours (reserved or settled): its id, when, and its bytes.
  `CREATE TABLE IF NOT EXISTS file_uploads (id TEXT PRIMARY KEY, at INTEGER NOT NULL, bytes INTEGER NOT NULL)`,
];

export const FILE_QUOTA_WINDOW_MS = 24 * 60 * 60 * 1000;

export type QuotaAnswer = { ok: true } | { ok: false; retryAfterSec: number };

export class FileQuota {
  #ready = false;

  constructor(private readonly sql: SqlStorage) {}

  /**
   * The table is made on first use, not by the constructor: an object asked about a made-up
   * username erases its storage (account.ts), and one signed up afterwards must still have it.
   */
  #table(): void {
    if (this.#ready) return;
    for (const statement of FILE_QUOTA_SCHEMA) this.sql.exec(statement);
    this.#ready = true;
  }

  /** Bytes uploaded (or reserved) in the window ending `now`. */
  used(now = Date.now()): number {
    this.#table();
    this.sql.exec("DELETE FROM file_uploads WHERE at <= ?", now - FILE_QUOTA_WINDOW_MS);
    return this.sql.exec<{ n: number | null }>("SELECT sum(bytes) AS n FROM file_uploads").one().n ?? 0;
  }

  /** Reserves `bytes` for upload `id`, or says when enough of the window will have passed. */
  reserve(id: string, bytes: number, perDay: number, now = Date.now()): QuotaAnswer {
    const used = this.used(now);
    if (used + bytes <= perDay) {
      this.sql.exec("INSERT OR REPLACE INTO file_uploads (id, at, bytes) VALUES (?, ?, ?)", id, now, bytes);
      return { ok: true };
    }
    // The oldest uploads leave the window first: wait until enough of them have.
    let freed = 0;
    let at = now;
    for (const r of this.sql.exec<{ at: number; bytes: number }>("SELECT at, bytes FROM file_uploads ORDER BY at").toArray()) {
      freed += r.bytes;
      at = r.at;
      if (used - freed + bytes <= perDay) break;
    }
    const fits = used - freed + bytes <= perDay;
    const waitMs = fits ? at + FILE_QUOTA_WINDOW_MS - now : FILE_QUOTA_WINDOW_MS;
    return { ok: false, retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** Ends upload `id`: keeps `bytes` stored against the quota, or releases it all (null). */
  settle(id: string, bytes: number | null): void {
    this.#table();
    if (bytes === null) this.sql.exec("DELETE FROM file_uploads WHERE id = ?", id);
    else this.sql.exec("UPDATE file_uploads SET bytes = ? WHERE id = ?", bytes, id);
  }
}
