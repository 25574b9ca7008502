/**
 * Who belongs to the conversation: creating it, joining, invitations and leaving, and the
 * conversation as each member sees it (their entry in their list). Every change of membership is
 * written with a member-sync note in one transaction and then told to the member's own object
 * (member-sync.ts), so the two never disagree for good.
 */
import { CLOSE, type Limits, type Role, type ServerFrame, type Summary, type User } from "../../protocol";
import type { IndexEntry } from "../user";
import type { CreateInit, JoinResult } from "./index";
import type { MemberSync } from "./member-sync";
import type { Notifier } from "./notify";
import type { ConversationPresence } from "./presence";
import type { Moderation } from "./roles";
import type { ConversationMeta, ConversationStore } from "./store";

export interface MembershipHooks {
  store: ConversationStore;
  sync: MemberSync;
  notifier: Notifier;
  presence: ConversationPresence;
  mod: Moderation;
  limits: () => Limits;
  meta: () => ConversationMeta | null;
  metaOrThrow: () => ConversationMeta;
  /** The conversation, or null (and storage erased) when this object holds none. */
  held: () => ConversationMeta | null;
  metaChanged: () => void;
  /** Makes the tables again if the object erased them (see ConversationObject). */
  ensureSchema: () => void;
  access: (username: string) => "ok" | "not_found" | "forbidden";
  broadcastAll: (frames: ServerFrame[]) => void;
  openSockets: (username: string) => WebSocket[];
  closeSocket: (ws: WebSocket, code: number, reason: string) => void;
}

export class Membership {
  constructor(private readonly h: MembershipHooks) {}

 /**
   * Creates the conversation (idempotent: a DM asked for twice is the same conversation) and puts
   * it in every member's list. Returns each member's summary, in the order given.
   */
  async create(init: CreateInit): Promise<Summary[]> {
    this.h.ensureSchema();
    if (!this.h.meta()) {
      const now = Date.now();
      this.h.store.atomic(() => {
        this.h.store.initMeta({ id: init.id, kind: init.kind, title: init.title, private: init.private, created: now });
        for (const [i, m] of init.members.entries()) {
          // The creator owns a room (v1.1); DMs have no roles.
          this.h.store.addMember(m.username, m.name, now, init.kind === "room" && i === 0 ? "owner" : "member");
          if (init.kind === "room") this.h.store.memberEvent(m.username, true, now);
          this.h.sync.owe(m.username);
        }
        this.h.notifier.advanceTo(this.h.store.lastSeq());
      });
      this.h.metaChanged();
      await this.h.presence.seed(init.members.map((m) => m.username));
    }
    return Promise.all(init.members.map(async (m) => (await this.h.sync.tell(m.username)) ?? this.entryFor(m.username)));
  }

  /** The conversation as one member sees it, for their index. */
  entryFor(username: string): IndexEntry {
    const meta = this.h.metaOrThrow();
    const member = this.h.store.member(username);
    const readSeq = member?.readSeq ?? 0;
    const entry: IndexEntry = {
      id: meta.id,
      kind: meta.kind,
      title: meta.title,
      lastSeq: this.h.store.lastSeq(),
      readSeq,
      unread: this.h.store.unreadFor(username, readSeq),
    };
    const last = this.h.store.lastMessage();
    if (last) entry.last = last;
    if (meta.kind === "dm") {
      const peer = this.h.store.members().find((m) => m.username !== username);
      if (peer) {
        entry.peer = peer.username;
        entry.title = peer.name;
      }
    } else {
      entry.members = this.h.store.memberCount();
      if (meta.private) entry.private = true;
      if (member) entry.role = member.role;
      if (meta.topic) entry.topic = meta.topic;
    }
    return entry;
  }

  /** As entryFor, with the member's unread mentions: for their own index only. */
  indexEntry(username: string): IndexEntry {
    const entry = this.entryFor(username);
    entry.mentionSeqs = this.h.store.unreadMentions(username, entry.readSeq);
    return entry;
  }

  entryOrNull(username: string): IndexEntry | null {
    return this.h.access(username) === "ok" ? this.indexEntry(username) : null;
  }

  /** Joins a public room, or a private one with a live invite link (`invited`, checked by the caller). */
  async join(user: User, invited = false): Promise<JoinResult> {
    const meta = this.h.held();
    if (!meta) return { ok: false, reason: "not_found" };
    if (this.h.store.isMember(user.username)) return this.#already(user.username);
    if (meta.kind === "dm" || (meta.private && !invited)) return { ok: false, reason: "forbidden" };
    if (this.h.mod.isBanned(user.username)) return { ok: false, reason: "banned" };
    return this.#add(user);
  }

  /**
   * A member adds someone to a room: in a private room only admins and the owner (v1.1); never
   * someone banned from it.
   */
  async invite(by: string, user: User): Promise<JoinResult> {
    const meta = this.h.held();
    if (!meta || !this.h.store.isMember(by)) return { ok: false, reason: "not_found" };
    if (meta.kind === "dm") return { ok: false, reason: "forbidden" };
    if (meta.private && this.h.mod.roleOf(by) === "member") return { ok: false, reason: "forbidden" };
    if (this.h.store.isMember(user.username)) return this.#already(user.username);
    if (this.h.mod.isBanned(user.username)) return { ok: false, reason: "banned" };
    return this.#add(user);
  }

  /** Already a member: their list is told again (it may have missed it), nothing else changes. */
  async #already(username: string): Promise<JoinResult> {
    this.h.store.atomic(() => this.h.sync.owe(username));
    return { ok: true, summary: (await this.h.sync.tell(username)) ?? this.entryFor(username), added: false };
  }

  async #add(user: User): Promise<JoinResult> {
    if (this.h.store.memberCount() >= this.h.limits().roomMembers) return { ok: false, reason: "full" };
    const now = Date.now();
    const role: Role = this.h.mod.newcomerRole();
    const seq = this.h.store.atomic(() => {
      this.h.store.addMember(user.username, user.name, now, role);
      this.h.sync.owe(user.username);
      return this.h.store.memberEvent(user.username, true, now);
    });
    this.h.broadcastAll([{ t: "member", seq, username: user.username, name: user.name, joined: true, ts: now }]);
    this.h.notifier.schedule();
    await this.h.presence.seed([user.username]);
    return { ok: true, summary: (await this.h.sync.tell(user.username)) ?? this.entryFor(user.username), added: true };
  }

  /**
   * Leaves a room: a member event, the member's sockets here are closed, and their list is told
   * (now, and by the alarm until it has heard). False when they were not a member.
   */
  async leave(username: string): Promise<boolean> {
    const meta = this.h.held();
    if (!meta || meta.kind === "dm") return false;
    const now = Date.now();
    const { seq, heir } = this.h.store.atomic(() => {
      const wasOwner = this.h.mod.roleOf(username) === "owner";
      if (!this.h.store.removeMember(username)) return { seq: null, heir: null };
      this.h.sync.owe(username);
      const s = this.h.store.memberEvent(username, false, now);
      // The owner's going hands the room to the longest-standing admin, else member (v1.1).
      return { seq: s, heir: this.h.mod.succeed(username, wasOwner, now) };
    });
    if (seq === null) {
      // Not a member (any more): their list may still show it, if it missed the first time.
      this.h.store.atomic(() => this.h.sync.owe(username));
      await this.h.sync.tell(username);
      return false;
    }
    // The event first: closing a socket sends what is queued, so every device of theirs sees it.
    this.h.broadcastAll([{ t: "member", seq, username, joined: false, ts: now }, ...(heir ? [heir] : [])]);
    for (const ws of this.h.openSockets(username)) this.h.closeSocket(ws, CLOSE.FORBIDDEN, "left the conversation");
    this.h.notifier.schedule();
    await Promise.all([this.h.sync.tell(username), heir ? this.h.sync.tell(heir.username) : null]);
    return true;
  }
}
