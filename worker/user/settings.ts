/**
 * What a user's account changes must make every conversation of theirs show (PROTOCOL.md 7.1,
 * 7.2): a new display name, the account erased, a DM blocked or unblocked. This object owns that
 * state; the conversations keep a copy, and they get it through durable notes: the change and a
 * note per conversation are written together, each note is deleted only once its call returned,
 * and the alarm calls again until it does (the way member-sync works, in the other direction).
 * Every call is idempotent: names carry a version that only grows, and an older one arriving
 * late changes nothing. The tables are in schema.ts (conv_notes, blocks).
 */
import type { AccountChange } from "../conversation";

type Note = { kind: "name"; change: AccountChange } | { kind: "erase" } | { kind: "block"; peer: string; on: boolean };

export interface SettingsHooks {
  env: Env;
  me: () => string | null;
  /** A note was written: the alarm must come back if a call fails. */
  owing: () => void;
}

export class Settings {
  #version = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly h: SettingsHooks,
  ) {}

  /** A version for a new name: only grows, across restarts too (it is the time, made unique). */
  nameVersion(): number {
    this.#version = Math.max(this.#version + 1, Date.now());
    return this.#version;
  }

  /** Notes for `convs`, written in the caller's transaction (with the change they carry). */
  note(convs: string[], note: Note): void {
    const kind = note.kind === "block" ? `block:${note.peer}` : note.kind;
    for (const conv of convs) {
      this.sql.exec(
        "INSERT INTO conv_notes (conv, kind, payload) VALUES (?, ?, ?) ON CONFLICT (conv, kind) DO UPDATE SET payload = excluded.payload",
        conv, kind, JSON.stringify(note),
      );
    }
    if (convs.length > 0) this.h.owing();
  }

  pending(): boolean {
    return this.sql.exec("SELECT 1 FROM conv_notes LIMIT 1").toArray().length > 0;
  }

  /** Calls every conversation owed a note; each note goes once its call returned. */
  async deliver(only?: string[]): Promise<void> {
    const me = this.h.me();
    if (!me) return;
    const rows = this.sql.exec<{ conv: string; kind: string; payload: string }>("SELECT conv, kind, payload FROM conv_notes").toArray();
    const wanted = only ? new Set(only) : null;
    await Promise.allSettled(
      rows.filter((r) => !wanted || wanted.has(r.conv)).map(async (r) => {
        const note = JSON.parse(r.payload) as Note;
        const conv = this.h.env.CONVERSATIONS.get(this.h.env.CONVERSATIONS.idFromName(r.conv));
        try {
          if (note.kind === "name") await conv.memberChanged(me, note.change);
          else if (note.kind === "erase") await conv.memberChanged(me, { erased: true });
          else await conv.blockChanged(me, note.peer, note.on);
          // Only the note that was told is done: one written meanwhile has another payload.
          this.sql.exec("DELETE FROM conv_notes WHERE conv = ? AND kind = ? AND payload = ?", r.conv, r.kind, r.payload);
        } catch {
          this.h.owing();
        }
      }),
    );
  }

  // ---- blocking (7.2) -------------------------------------------------------------------------

  block(username: string, now = Date.now()): boolean {
    return this.sql.exec("INSERT OR IGNORE INTO blocks (username, at) VALUES (?, ?)", username, now).rowsWritten > 0;
  }

  unblock(username: string): boolean {
    return this.sql.exec("DELETE FROM blocks WHERE username = ?", username).rowsWritten > 0;
  }

  blocks(username: string): boolean {
    return this.sql.exec("SELECT 1 FROM blocks WHERE username = ?", username).toArray().length > 0;
  }

  blocked(): string[] {
    return this.sql.exec<{ username: string }>("SELECT username FROM blocks ORDER BY at, username").toArray().map((r) => r.username);
  }

  /** Everything but the account's tombstone and the notes still owed (an erased account). */
  forget(): void {
    this.sql.exec("DELETE FROM blocks");
  }
}
