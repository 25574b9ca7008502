/**
 * Invite links to a private room (issue 14): a random token that the room's admins and owner make,
 * with an expiry, and may revoke; whoever holds a live one may join (a ban still refuses them).
 * Tokens are kept in the room's own object, so a token opens that room and no other. A public
 * room needs none: anyone may join it, and its link is just its id.
 */
import type { InviteLink } from "../../protocol";
import type { Moderation } from "./roles";
import type { ConversationMeta, ConversationStore } from "./store";

export const INVITES_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS invites (token TEXT PRIMARY KEY, by_user TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL)`,
];
/** Live links a room may have at once: each is a way in, and the list is shown whole. */
export const INVITES_MAX = 20;
export const INVITE_DAYS_DEFAULT = 7;
export const INVITE_DAYS_MAX = 30;
const DAY_MS = 86_400_000;

export type InviteRefusal = { ok: false; reason: "not_found" | "forbidden" | "full" | "invalid"; message: string };
export type InviteAnswer = { ok: true; links: InviteLink[] } | InviteRefusal;
export type InviteOp = { op: "create"; days: number } | { op: "list" } | { op: "revoke"; token: string };

export interface InviteHooks {
  store: ConversationStore;
  mod: Moderation;
  held: () => ConversationMeta | null;
}

function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}

export class Invites {
  constructor(
    private readonly sql: SqlStorage,
    private readonly h: InviteHooks,
  ) {}

  /** Make, list or revoke links: admins and the owner of a private room only. */
  run(by: string, action: InviteOp, now = Date.now()): InviteAnswer {
    const meta = this.h.held();
    if (!meta || !this.h.store.isMember(by)) return { ok: false, reason: "not_found", message: "no such conversation" };
    if (meta.kind !== "room") return { ok: false, reason: "forbidden", message: "only rooms have invite links" };
    if (!meta.private) return { ok: false, reason: "invalid", message: "a public room needs no invite link: anyone may join it" };
    if (this.h.mod.roleOf(by) === "member") return { ok: false, reason: "forbidden", message: "only admins and the owner manage invite links" };
    this.sql.exec("DELETE FROM invites WHERE expires <= ?", now);
    if (action.op === "create") {
      if (this.#live().length >= INVITES_MAX) return { ok: false, reason: "full", message: `a room has at most ${INVITES_MAX} live invite links: revoke one first` };
      const link: InviteLink = { token: newToken(), by, created: now, expires: now + action.days * DAY_MS };
      this.sql.exec("INSERT INTO invites (token, by_user, created, expires) VALUES (?, ?, ?, ?)", link.token, by, link.created, link.expires);
      return { ok: true, links: [link] };
    }
    if (action.op === "revoke" && this.sql.exec("DELETE FROM invites WHERE token = ?", action.token).rowsWritten === 0) {
      return { ok: false, reason: "not_found", message: "no such invite link (expired or revoked already)" };
    }
    return { ok: true, links: this.#live() };
  }

  /** Whether `token` is a live link of this room. */
  valid(token: string, now = Date.now()): boolean {
    return this.sql.exec("SELECT 1 FROM invites WHERE token = ? AND expires > ?", token, now).toArray().length > 0;
  }

  #live(): InviteLink[] {
    return this.sql
      .exec<{ token: string; by_user: string; created: number; expires: number }>("SELECT token, by_user, created, expires FROM invites ORDER BY created")
      .toArray()
      .map((r) => ({ token: r.token, by: r.by_user, created: r.created, expires: r.expires }));
  }
}
