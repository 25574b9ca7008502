/**
 * An object's schema is installed once per revision of the code that installs it, not at every
 * wake. The install runs every `CREATE ... IF NOT EXISTS`, a column check per added column and
 * the one-time migrations: about 30 statements, 0.3 to 0.9 ms of a conversation's or a user's
 * wake (BENCHMARKS.md, issue 17, tenth session), paid by every object a deploy or an eviction
 * brings back. After a complete install the object records a fingerprint of it; a wake that finds
 * the same fingerprint runs two reads instead.
 *
 * The fingerprint covers the statements and the source text of the install's own steps, so any
 * change to either installs again on the next wake, with no version number to remember. An
 * object made before this record existed, or one that wiped its storage, has none and installs.
 */

import { fnv1a } from "./fnv1a";

const TABLE = "schema_revision";

/** A short, stable digest (FNV-1a, 32 bits, with the length) of the parts' text. */
export function schemaFingerprint(parts: readonly (string | ((...args: never[]) => unknown))[]): string {
  const text = parts.map((p) => (typeof p === "string" ? p : p.toString())).join("\u0000");
  return `${fnv1a(text).toString(16).padStart(8, "0")}-${text.length.toString(36)}`;
}

/** The fingerprint the last complete install recorded, or null (never recorded, or wiped). */
export function installedRevision(sql: SqlStorage): string | null {
  // Asked of sqlite_master first: reading a table that does not exist would throw.
  if (sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", TABLE).toArray().length === 0) return null;
  const row = sql.exec<{ fingerprint: string }>(`SELECT fingerprint FROM ${TABLE} WHERE id = 1`).toArray()[0];
  return row?.fingerprint ?? null;
}

/** Runs `install` unless storage already has `fingerprint`'s schema; records it after a complete run. */
export function installOnce(sql: SqlStorage, fingerprint: string, install: (sql: SqlStorage) => void): void {
  if (installedRevision(sql) === fingerprint) return;
  install(sql);
  sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), fingerprint TEXT NOT NULL)`);
  sql.exec(`INSERT OR REPLACE INTO ${TABLE} (id, fingerprint) VALUES (1, ?)`, fingerprint);
}
