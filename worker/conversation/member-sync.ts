/**
 * Keeping each member's conversation list in step with this conversation's membership: the one
 * step of create, join, invite and leave that lives in another object (the member's user object).
 *
 * The change of membership and a row saying "tell this user" are written in one transaction. The
 * telling then sends the truth as it is at that moment (a member: the conversation as they see
 * it; not a member: remove it, as of this seq), and the row is deleted only once that call
 * returned. A call that fails stays owed and the alarm tries again, so the two objects never
 * disagree for good; the user object orders what it is told by seq, so a late or repeated call
 * cannot undo a newer one.
 */
import type { Summary } from "../../protocol";
import type { IndexEntry } from "../user";
import type { ConversationStore } from "./store";

export const MEMBER_SYNC_SCHEMA = [
  // version: the conversation's lastSeq when the change was written; a newer change replaces it.
  `CREATE TABLE IF NOT EXISTS member_sync (username TEXT PRIMARY KEY, version INTEGER NOT NULL)`,
];

export interface MemberSyncHooks {
  env: Env;
  convId: () => string | null;
  /** The conversation as `username` sees it; null when they are not a member. */
  entryFor: (username: string) => IndexEntry | null;
  /** A row was written: the alarm must come back if the call fails. */
  owing: () => void;
}

export class MemberSync {
  constructor(
    private readonly sql: SqlStorage,
    private readonly store: ConversationStore,
    private readonly h: MemberSyncHooks,
  ) {
  }

  /** Records, inside the membership change's own transaction, that `username` must be told. */
  owe(username: string): void {
    this.sql.exec(
      "INSERT INTO member_sync (username, version) VALUES (?, ?) ON CONFLICT (username) DO UPDATE SET version = excluded.version",
      username, this.store.lastSeq(),
    );
    this.h.owing();
  }

  pending(): boolean {
    return this.sql.exec("SELECT 1 FROM member_sync LIMIT 1").toArray().length > 0;
  }

  /**
   * Tells `username`'s object the truth now. Returns their summary when they are a member and the
   * call succeeded; null otherwise (the row stays for the alarm if the call failed).
   */
  async tell(username: string): Promise<Summary | null> {
    const conv = this.h.convId();
    const row = this.sql.exec<{ version: number }>("SELECT version FROM member_sync WHERE username = ?", username).toArray()[0];
    if (!conv || !row) return null;
    const user = this.h.env.USERS.get(this.h.env.USERS.idFromName(username));
    const entry = this.h.entryFor(username);
    try {
      let summary: Summary | null = null;
      if (entry) summary = await user.addConversation(entry);
      else await user.removeConversation(conv, this.store.lastSeq());
      // Only the change that was told is done: one written meanwhile has a newer version.
      this.sql.exec("DELETE FROM member_sync WHERE username = ? AND version = ?", username, row.version);
      return summary;
    } catch {
      this.h.owing();
      return null;
    }
  }

  /** Tells everyone still owed (from the alarm); the calls are not waited on by the alarm. */
  retry(): Promise<void> {
    const rows = this.sql.exec<{ username: string }>("SELECT username FROM member_sync").toArray();
    return Promise.allSettled(rows.map((r) => this.tell(r.username))).then(() => {});
  }
}
