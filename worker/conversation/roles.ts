/**
 * Rooms with roles and moderation (PROTOCOL.md 7.3): who may change a room's settings, change
 * roles, remove, ban and delete, checked here, in the object that owns the room, never only in a
 * route. Every change is an event of the log (`room`, `role`, `member` with `by`), written in one
 * transaction with the member-sync notes that carry it to the members' lists; removals, bans and
 * deletion then tell those lists through member-sync, which retries until each call returned.
 *
 * Refusals: a caller who is not a member is told the room does not exist (`not_found`, as the
 * member-only routes answer 404); a member without the role gets `forbidden`.
 */
import { CLOSE, type Member, type Role, type RoleFrame, type ServerFrame, type Summary } from "../../protocol";
import type { MemberSync } from "./member-sync";
import type { ConversationMeta, ConversationStore } from "./store";

export const ROLES_SCHEMA = [
  // Banned users (v1.1): `join` and invitations answer 403 banned until an admin unbans them.
  `CREATE TABLE IF NOT EXISTS bans (username TEXT PRIMARY KEY, by_user TEXT NOT NULL, at INTEGER NOT NULL)`,
];

export type Refused = { ok: false; reason: "not_found" | "forbidden" | "banned" | "invalid"; message: string };
export type ModResult<T extends object = object> = ({ ok: true } & T) | Refused;

export interface RoomPatch {
  title?: string;
  topic?: string;
  private?: boolean;
}

/** What an admin or the owner asks of a room (one RPC, so the object keeps one entry point). */
export type ModAction =
  | { op: "update"; patch: RoomPatch }
  | { op: "role"; username: string; role: Role }
  | { op: "remove"; username: string }
  | { op: "ban"; username: string }
  | { op: "unban"; username: string }
  | { op: "bans" }
  | { op: "delete" };

/** The answer: for `update` the room as the caller sees it and its state, for `bans` the list. */
export type ModAnswer = ModResult<{ summary?: Summary; title?: string; private?: boolean; banned?: string[] }>;

export interface ModerationHooks {
  store: ConversationStore;
  sync: MemberSync;
  /** The room, or null when there is none (never created, or deleted). */
  held: () => ConversationMeta | null;
  /** The cached meta must be read again. */
  metaChanged: () => void;
  broadcastAll: (frames: ServerFrame[]) => void;
  /** Closes sockets (everyone's when null), after sending the frames queued for them. */
  closeSockets: (username: string | null, code: number, reason: string) => void;
  scheduleNotify: () => void;
  /** Everyone shown online here, computed once per list. */
  online: () => ReadonlySet<string>;
  /** When a member shown offline was last online (undefined: unknown). */
  lastSeen: (username: string) => number | undefined;
  /** Work that outlives the call (telling members' lists; the alarm retries what fails). */
  background: (work: Promise<unknown>) => void;
}

const refuse = (reason: Refused["reason"], message: string): Refused => ({ ok: false, reason, message });
const NOT_FOUND = refuse("not_found", "no such conversation");

/**
 * Rooms made before roles existed have no owner: the longest-standing member becomes it, without
 * an event (nothing changed for anyone). Run when the schema is installed.
 */
export function adoptOwner(sql: SqlStorage): void {
  const kind = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'kind'").toArray()[0]?.v;
  if (kind !== "room") return;
  if (sql.exec("SELECT 1 FROM members WHERE active = 1 AND role = 'owner'").toArray().length > 0) return;
  sql.exec(
    `UPDATE members SET role = 'owner' WHERE username =
       (SELECT username FROM members WHERE active = 1 ORDER BY joined_at, username LIMIT 1)`,
  );
}

export class Moderation {
  constructor(
    private readonly sql: SqlStorage,
    private readonly h: ModerationHooks,
  ) {}

  async run(by: string, a: ModAction, summary: () => Summary): Promise<ModAnswer> {
    switch (a.op) {
      case "update": {
        const r = this.updateRoom(by, a.patch);
        return r.ok ? { ok: true, summary: summary(), title: r.meta.title, private: r.meta.private } : r;
      }
      case "role":
        return this.setRole(by, a.username, a.role);
      case "remove":
        return this.remove(by, a.username);
      case "ban":
        return this.ban(by, a.username);
      case "unban":
        return this.unban(by, a.username);
      case "bans":
        return this.bans(by);
      case "delete":
        return this.deleteRoom(by);
      default: {
        const unreachable: never = a;
        return unreachable;
      }
    }
  }

  roleOf(username: string): Role | null {
    return this.h.store.member(username)?.role ?? null;
  }

  isBanned(username: string): boolean {
    return this.#sql("SELECT 1 FROM bans WHERE username = ?", username).length > 0;
  }

  #sql(query: string, ...args: SqlStorageValue[]): Record<string, SqlStorageValue>[] {
    return this.sql.exec(query, ...args).toArray();
  }

  /** May `username` delete others' messages here (admins and the owner of a room)? */
  canModerate(username: string): boolean {
    const meta = this.h.held();
    const role = this.roleOf(username);
    return meta?.kind === "room" && (role === "owner" || role === "admin");
  }

  /** The role a newcomer gets: owner of a room nobody owns (everyone left), else member. */
  newcomerRole(): Role {
    return this.h.store.members().some((m) => m.role === "owner") ? "member" : "owner";
  }

  /** Every member with role and presence, for the `members` route (null: not a member). */
  members(caller: string): Member[] | null {
    if (!this.h.held() || !this.h.store.isMember(caller)) return null;
    return this.memberList();
  }

  memberList(): Member[] {
    const room = this.h.held()?.kind === "room";
    const online = this.h.online();
    return this.h.store.members().map((m) => {
      const out: Member = { username: m.username, name: m.name, online: online.has(m.username), readSeq: m.readSeq };
      const seen = out.online || m.erased ? undefined : this.h.lastSeen(m.username);
      if (seen) out.lastSeen = seen;
      if (room) out.role = m.role;
      if (m.erased) out.deleted = true;
      return out;
    });
  }

  /** Checks that `by` is a member of a room with one of `roles`. */
  #allowed(by: string, roles: readonly Role[], what: string): ConversationMeta | Refused {
    const meta = this.h.held();
    if (!meta || !this.h.store.isMember(by)) return NOT_FOUND;
    if (meta.kind !== "room") return refuse("forbidden", `${what}: only rooms have roles`);
    const role = this.roleOf(by);
    if (!role || !roles.includes(role)) return refuse("forbidden", `${what}: only ${roles.join(" or ")} may do this`);
    return meta;
  }

  /** Title, topic, privacy: admins and the owner. A `room` event with the settings after it. */
  updateRoom(by: string, patch: RoomPatch, now = Date.now()): ModResult<{ meta: ConversationMeta; changed: boolean }> {
    const meta = this.#allowed(by, ["owner", "admin"], "room settings");
    if ("ok" in meta) return meta;
    const next = {
      title: patch.title ?? meta.title,
      topic: patch.topic ?? meta.topic ?? "",
      private: patch.private ?? meta.private,
    };
    if (next.title === meta.title && next.topic === (meta.topic ?? "") && next.private === meta.private) {
      return { ok: true, meta, changed: false };
    }
    const { store, sync } = this.h;
    const seq = store.atomic(() => {
      store.setMeta("title", next.title);
      store.setMeta("topic", next.topic);
      store.setMeta("private", next.private ? "1" : "0");
      const s = store.roomEvent(by, next, now);
      // Every member's list shows the title (and privacy): each is told, and retried until heard.
      for (const m of store.activeMembers()) sync.owe(m);
      return s;
    });
    this.h.metaChanged();
    this.h.broadcastAll([{ t: "room", seq, ...next, by, ts: now }]);
    this.#tellAll();
    return { ok: true, meta: this.h.held() ?? meta, changed: true };
  }

  /**
   * The owner sets a member's role. `owner` hands ownership over: the old owner becomes an admin
   * (two `role` events, the new owner's first).
   */
  setRole(by: string, username: string, role: Role, now = Date.now()): ModResult {
    const meta = this.#allowed(by, ["owner"], "roles");
    if ("ok" in meta) return meta;
    const target = this.h.store.member(username);
    if (!target) return refuse("not_found", `${username} is not a member of this room`);
    if (username === by) return refuse("invalid", "the owner hands ownership over to someone else instead");
    if (target.role === role) return { ok: true };
    const { store, sync } = this.h;
    const frames = store.atomic(() => {
      const out: ServerFrame[] = [];
      store.setRole(username, role);
      out.push({ t: "role", seq: store.roleEvent(username, role, by, now), username, role, by, ts: now });
      sync.owe(username);
      if (role === "owner") {
        store.setRole(by, "admin");
        out.push({ t: "role", seq: store.roleEvent(by, "admin", by, now), username: by, role: "admin", by, ts: now });
        sync.owe(by);
      }
      return out;
    });
    this.h.broadcastAll(frames);
    this.#tellAll();
    return { ok: true };
  }

  /** Whether `by` may remove or ban `username`: admins not on admins or the owner; the owner on anyone else. */
  #mayRemove(by: string, username: string, what: string): ConversationMeta | Refused {
    const meta = this.#allowed(by, ["owner", "admin"], what);
    if ("ok" in meta) return meta;
    if (username === by) return refuse("forbidden", `${what}: not on yourself (leave the room instead)`);
    const target = this.roleOf(username);
    if (target === "owner" || (target === "admin" && this.roleOf(by) !== "owner")) {
      return refuse("forbidden", `${what}: only the owner may do this to an admin, and nobody to the owner`);
    }
    return meta;
  }

  /** Removes a member: a `member` event with `by`, their sockets closed (4403), their list told. */
  async remove(by: string, username: string, now = Date.now()): Promise<ModResult> {
    const meta = this.#mayRemove(by, username, "remove");
    if ("ok" in meta) return meta;
    if (!this.h.store.isMember(username)) return refuse("not_found", `${username} is not a member of this room`);
    await this.#evict(by, username, "removed from the room", now);
    return { ok: true };
  }

  /** Bans someone (a member is removed as above); join and invitations then answer 403 banned. */
  async ban(by: string, username: string, now = Date.now()): Promise<ModResult> {
    const meta = this.#mayRemove(by, username, "ban");
    if ("ok" in meta) return meta;
    this.h.store.atomic(() => {
      this.#sql("INSERT OR IGNORE INTO bans (username, by_user, at) VALUES (?, ?, ?)", username, by, now);
    });
    if (this.h.store.isMember(username)) await this.#evict(by, username, "banned from the room", now);
    return { ok: true };
  }

  unban(by: string, username: string): ModResult {
    const meta = this.#allowed(by, ["owner", "admin"], "unban");
    if ("ok" in meta) return meta;
    this.#sql("DELETE FROM bans WHERE username = ?", username);
    return { ok: true };
  }

  bans(by: string): ModResult<{ banned: string[] }> {
    const meta = this.#allowed(by, ["owner", "admin"], "bans");
    if ("ok" in meta) return meta;
    return { ok: true, banned: this.#sql("SELECT username FROM bans ORDER BY at, username").map((r) => String(r.username)) };
  }

  async #evict(by: string, username: string, reason: string, now: number): Promise<void> {
    const { store, sync } = this.h;
    const seq = store.atomic(() => {
      store.removeMember(username);
      sync.owe(username);
      return store.memberEvent(username, false, now, by);
    });
    // The event first (closing sends what is queued): the removed member learns who removed them.
    this.h.broadcastAll([{ t: "member", seq, username, joined: false, ts: now, by }]);
    this.h.closeSockets(username, CLOSE.FORBIDDEN, reason);
    this.h.scheduleNotify();
    await sync.tell(username);
  }

  /**
   * Inside a leave's (or an erased account's) transaction: when the owner goes, the
   * longest-standing admin, else member, becomes owner (a `role` event). Returns its frame.
   */
  succeed(leaving: string, wasOwner: boolean, now: number): RoleFrame | null {
    if (!wasOwner || this.h.held()?.kind !== "room") return null;
    const rest = this.h.store.members().filter((m) => m.username !== leaving && !m.erased);
    const heir = rest.find((m) => m.role === "admin") ?? rest[0];
    if (!heir) return null;
    this.h.store.setRole(heir.username, "owner");
    this.h.sync.owe(heir.username);
    const seq = this.h.store.roleEvent(heir.username, "owner", leaving, now);
    return { t: "role", seq, username: heir.username, role: "owner", by: leaving, ts: now };
  }

  /**
   * The owner deletes the room: every member is removed and told (member-sync, retried until each
   * list has heard), every socket closes with 4404, the content is erased at once and the rest of
   * the storage once every list has heard (see finishDeletion). Afterwards everything answers
   * not_found. Returns the ids of the members told.
   */
  async deleteRoom(by: string, now = Date.now()): Promise<ModResult> {
    const meta = this.#allowed(by, ["owner"], "delete the room");
    if ("ok" in meta) return meta;
    const { store, sync } = this.h;
    const members = store.activeMembers();
    store.atomic(() => {
      for (const m of members) {
        store.removeMember(m);
        sync.owe(m);
      }
      store.setMeta("deleted", "1");
      for (const q of [
        "DELETE FROM messages", "DELETE FROM reactions", "DELETE FROM messages_fts", "DELETE FROM bans",
        "UPDATE events SET body = NULL, data = NULL",
      ]) this.#sql(q);
      store.deletedEvent(by, now);
    });
    this.h.metaChanged();
    this.h.closeSockets(null, CLOSE.NOT_FOUND, "the room was deleted");
    await Promise.allSettled(members.map((m) => sync.tell(m)));
    return { ok: true };
  }

  #tellAll(): void {
    this.h.background(Promise.allSettled(this.h.store.activeMembers().map((m) => this.h.sync.tell(m))));
  }
}
