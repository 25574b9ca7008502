/**
 * Changes to a member's account that every conversation of theirs must show (PROTOCOL.md 7.1): a
 * new display name, or the account erased. The member's user object keeps a durable note per
 * conversation and calls again until this returns (worker/user/settings.ts), so both are
 * idempotent: a name carries its version, and an older one arriving late changes nothing.
 *
 * In a DM the other person's list shows the name as the title: they are told through member-sync,
 * retried by the alarm until their object heard. Open sockets get a `profile` frame.
 */
import { CLOSE, type ConversationKind, type ServerFrame } from "../../protocol";
import type { MemberSync } from "./member-sync";
import type { ConversationStore } from "./store";

/** How an erased account is shown in the conversations it stays in (DMs). */
export const ERASED_NAME = "Deleted account";

export const PROFILE_SCHEMA = [
  // In a DM (7.2): the blocker's object says who they block; the blocked one's sends are refused.
  `CREATE TABLE IF NOT EXISTS blocks (blocker TEXT NOT NULL, blocked TEXT NOT NULL, PRIMARY KEY (blocker, blocked))`,
];

export type AccountChange = { name: string; version: number } | { erased: true };

export interface AccountChangeHooks {
  store: ConversationStore;
  sync: MemberSync;
  kind: () => ConversationKind;
  broadcastAll: (frames: ServerFrame[]) => void;
  closeSockets: (username: string, code: number, reason: string) => void;
  /** Leaves a room as the member would (a member event; ownership passes on). */
  leave: (username: string) => Promise<boolean>;
}

export class AccountChanges {
  /**
   * Everyone blocked here, as the table says: read once, not on every send (a DM asks for each
   * message). Dropped whenever the table may have changed, and read again when next asked.
   */
  #blocked: Set<string> | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly h: AccountChangeHooks,
  ) {
    h.store.onRollback(() => {
      this.#blocked = undefined;
    });
  }

  /** The blocker's object says whether they block `blocked` (idempotent; DMs only matter). */
  blockChanged(blocker: string, blocked: string, on: boolean): void {
    this.#blocked = undefined;
    if (on) this.sql.exec("INSERT OR IGNORE INTO blocks (blocker, blocked) VALUES (?, ?)", blocker, blocked);
    else this.sql.exec("DELETE FROM blocks WHERE blocker = ? AND blocked = ?", blocker, blocked);
  }

  /** Whether a member of this DM blocks `sender` (their `send` is refused, nothing stored). */
  isBlocked(sender: string): boolean {
    if (this.h.kind() !== "dm") return false;
    this.#blocked ??= new Set(this.sql.exec<{ blocked: string }>("SELECT DISTINCT blocked FROM blocks").toArray().map((r) => r.blocked));
    return this.#blocked.has(sender);
  }

  async apply(username: string, change: AccountChange): Promise<void> {
    const { store, sync } = this.h;
    if ("erased" in change) {
      this.h.closeSockets(username, CLOSE.UNAUTHORIZED, "the account was deleted");
      // A room: they leave it. A DM stays, readable for the other person, shown as deleted.
      if (this.h.kind() === "room") {
        await this.h.leave(username);
        return;
      }
    }
    const others = this.h.kind() === "dm" ? store.activeMembers().filter((u) => u !== username) : [];
    const changed = store.atomic(() => {
      const done = "erased" in change ? store.markErased(username, ERASED_NAME) : store.rename(username, change.name, change.version);
      if (done) for (const u of others) sync.owe(u);
      return done;
    });
    if (!changed) return;
    const frame: ServerFrame = "erased" in change
      ? { t: "profile", username, name: ERASED_NAME, deleted: true }
      : { t: "profile", username, name: change.name };
    this.h.broadcastAll([frame]);
    await Promise.allSettled(others.map((u) => sync.tell(u)));
  }
}
