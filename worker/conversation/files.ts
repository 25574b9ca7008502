/**
 * Files of one conversation (v1.1, PROTOCOL.md 7.4): the record of each upload, its attachment to
 * one message, and the removal of its bytes from R2. The bytes themselves go to R2 in the Worker
 * (worker/routes/files.ts), streamed; this object keeps what is known about them and decides who
 * may read them.
 *
 * A file is uploaded (a row with `seq` NULL), then attached once, by its uploader, to a message in
 * the same transaction as the message's insert. Deleting the message deletes its files; files
 * never attached are removed after UNATTACHED_TTL_MS by the alarm. Rows leave `files` at once, in
 * the transaction that decides it (the route answers 404 from then on); their R2 keys wait in
 * `files_gone` until R2 confirms each deletion, so a failed delete is retried by the alarm.
 */
import type { FileRef, Message } from "../../protocol";
import { SeqCeiling } from "./seq-ceiling";

/** Part of CONVERSATION_SCHEMA (schema.ts), so a wiped object that is created again has it too. */
export const FILES_SCHEMA = [
  // seq: the message it is attached to (NULL until then). sha256: hex of the bytes (the ETag).
  `CREATE TABLE IF NOT EXISTS files (
     id TEXT PRIMARY KEY,
     r2_key TEXT NOT NULL,
     owner TEXT NOT NULL,
     name TEXT NOT NULL,
     type TEXT NOT NULL,
     size INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     width INTEGER,
     height INTEGER,
     created INTEGER NOT NULL,
     seq INTEGER
   )`,
  `CREATE INDEX IF NOT EXISTS files_seq ON files (seq) WHERE seq IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS files_unattached ON files (created) WHERE seq IS NULL`,
  // R2 keys whose records are gone and whose bytes are still to be deleted.
  `CREATE TABLE IF NOT EXISTS files_gone (r2_key TEXT PRIMARY KEY)`,
];

/** Files never attached are removed this long after their upload. */
export const UNATTACHED_TTL_MS = 24 * 60 * 60 * 1000;
/** Keys deleted from R2 in one call (R2's own cap is 1 000). */
const DELETE_BATCH = 100;

export interface FileRecord extends FileRef {
  r2Key: string;
  owner: string;
  sha256: string;
  created: number;
  /** The message it is attached to, or null. */
  seq: number | null;
}

type FileRow = {
  id: string; r2_key: string; owner: string; name: string; type: string; size: number; sha256: string;
  width: number | null; height: number | null; created: number; seq: number | null;
};

function toRef(r: Pick<FileRow, "id" | "name" | "type" | "size" | "width" | "height">): FileRef {
  const ref: FileRef = { id: r.id, name: r.name, type: r.type, size: r.size };
  if (r.width !== null && r.height !== null) {
    ref.width = r.width;
    ref.height = r.height;
  }
  return ref;
}

export class ConversationFiles {
  /** Above the messages with files attached (see SeqCeiling). */
  readonly #attached = new SeqCeiling(() => this.sql.exec<{ s: number | null }>("SELECT max(seq) AS s FROM files WHERE seq IS NOT NULL").one().s ?? 0);

  constructor(
    private readonly sql: SqlStorage,
    /** The bucket (absent in a deployment without the binding: then uploads are refused). */
    private readonly bucket: () => R2Bucket | undefined,
  ) {}

  add(f: FileRecord): void {
    this.sql.exec(
      "INSERT INTO files (id, r2_key, owner, name, type, size, sha256, width, height, created, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
      f.id, f.r2Key, f.owner, f.name, f.type, f.size, f.sha256, f.width ?? null, f.height ?? null, f.created,
    );
  }

  get(id: string): FileRecord | null {
    const r = this.sql.exec<FileRow>("SELECT * FROM files WHERE id = ?", id).toArray()[0];
    if (!r) return null;
    return { ...toRef(r), r2Key: r.r2_key, owner: r.owner, sha256: r.sha256, created: r.created, seq: r.seq };
  }

  /** Why `owner` cannot attach these files to a new message, or null when they can. */
  problem(ids: readonly string[], owner: string): string | null {
    for (const id of ids) {
      const r = this.sql.exec<{ owner: string; seq: number | null }>("SELECT owner, seq FROM files WHERE id = ?", id).toArray()[0];
      if (!r || r.owner !== owner) return `files: no file ${id} of yours in this conversation`;
      if (r.seq !== null) return `files: ${id} is already attached to a message`;
    }
    return null;
  }

  /** Attaches the files to message `seq`; throws (rolling back the caller's transaction) if one cannot be. */
  attach(ids: readonly string[], owner: string, seq: number): void {
    this.#attached.raise(seq);
    for (const id of ids) {
      // Counted by RETURNING: rowsWritten also counts the index rows an update rewrites.
      const attached = this.sql.exec("UPDATE files SET seq = ? WHERE id = ? AND owner = ? AND seq IS NULL RETURNING id", seq, id, owner).toArray();
      if (attached.length !== 1) throw new Error("file not attachable");
    }
  }

  /** The files' references, in the order given. */
  refs(ids: readonly string[]): FileRef[] {
    const out: FileRef[] = [];
    for (const id of ids) {
      const r = this.get(id);
      if (r) out.push(toRef({ ...r, width: r.width ?? null, height: r.height ?? null }));
    }
    return out;
  }

  /** The files of these messages, each message's in the order they were sent. */
  refsFor(seqs: readonly number[]): Map<number, FileRef[]> {
    const bySeq = new Map<number, FileRef[]>();
    if (this.#attached.above(seqs)) return bySeq;
    const rows = this.sql
      .exec<FileRow>("SELECT * FROM files WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq, rowid", JSON.stringify(seqs))
      .toArray();
    for (const r of rows) {
      const list = bySeq.get(r.seq!) ?? [];
      list.push(toRef(r));
      bySeq.set(r.seq!, list);
    }
    return bySeq;
  }

  /** Message `seq` was deleted (in the caller's transaction): its files go with it. */
  dropFor(seq: number): void {
    this.sql.exec("INSERT OR IGNORE INTO files_gone (r2_key) SELECT r2_key FROM files WHERE seq = ?", seq);
    this.sql.exec("DELETE FROM files WHERE seq = ?", seq);
  }

  /** Removes files never attached that were uploaded before `now - UNATTACHED_TTL_MS`, then their bytes. */
  async sweep(now: number): Promise<void> {
    const before = now - UNATTACHED_TTL_MS;
    this.sql.exec("INSERT OR IGNORE INTO files_gone (r2_key) SELECT r2_key FROM files WHERE seq IS NULL AND created <= ?", before);
    this.sql.exec("DELETE FROM files WHERE seq IS NULL AND created <= ?", before);
    await this.purge();
  }

  /** Deletes from R2 the bytes of every file whose record is gone; a key leaves the list once R2 confirmed. */
  async purge(): Promise<void> {
    const bucket = this.bucket();
    if (!bucket) return;
    for (;;) {
      const keys = this.sql.exec<{ r2_key: string }>("SELECT r2_key FROM files_gone LIMIT ?", DELETE_BATCH).toArray().map((r) => r.r2_key);
      if (keys.length === 0) return;
      await bucket.delete(keys);
      this.sql.exec("DELETE FROM files_gone WHERE r2_key IN (SELECT value FROM json_each(?))", JSON.stringify(keys));
    }
  }

  /** Whether the alarm must come back: files wait to be attached or to be deleted. */
  pending(): boolean {
    return this.sql.exec("SELECT 1 FROM files WHERE seq IS NULL LIMIT 1").toArray().length > 0
      || this.sql.exec("SELECT 1 FROM files_gone LIMIT 1").toArray().length > 0;
  }

  /** The conversation is being erased: every file's bytes go (before its tables do). */
  async purgeAll(): Promise<void> {
    this.sql.exec("INSERT OR IGNORE INTO files_gone (r2_key) SELECT r2_key FROM files");
    this.sql.exec("DELETE FROM files");
    await this.purge();
  }
}

/** An inbox or push preview of a message without text: "🖼 photo" or "📎 report.pdf" (and how many more). */
export function filesPreview(files: readonly FileRef[]): string {
  if (files.length === 0) return "";
  const more = files.length > 1 ? ` +${files.length - 1}` : "";
  if (files.every((f) => f.type.startsWith("image/"))) return files.length === 1 ? "🖼 photo" : `🖼 ${files.length} photos`;
  return `📎 ${files[0]!.name}${more}`;
}

/** A message's preview text: its body, or with no body its files ("📎 report.pdf", "🖼 photo"). */
export function messagePreview(m: Pick<Message, "body" | "files">): string {
  return m.body === "" && m.files ? filesPreview(m.files) : m.body;
}
