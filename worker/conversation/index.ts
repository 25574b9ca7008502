/**
 * One Durable Object per conversation: it owns the truth. It assigns `seq`, sender and time,
 * checks membership on connect and on every frame, writes before it acknowledges, and keeps in
 * memory only what it can rebuild after hibernation (per-socket state lives in the attachment,
 * everything else in SQLite).
 */
import { DurableObject } from "cloudflare:workers";
import {
  CLOSE,
  HISTORY_MAX,
  PING,
  PONG,
  parseClientFrame,
  type ClientFrame,
  type ConversationKind,
  type ErrorCode,
  type EventFrame,
  type Limits,
  type Member,
  type Message,
  type ServerFrame,
  type User,
} from "../../protocol";
import { limitsFromEnv } from "../config";
import {
  acceptForwarded,
  broadcast,
  Codecs,
  notForwarded,
  readAttachment,
  tryClose,
  trySend,
  upgradeResponse,
  writeAttachment,
  type Attachment,
} from "../sockets";
import type { IndexEntry, WatchSnapshot } from "../user";
import { Notifier } from "./notify";
import { ConversationStore, type ConversationMeta } from "./store";


/** Most distinct emoji on one message. */
export const MAX_REACTION_KINDS = 50;
/** A presence lease lasts this many heartbeat intervals; the alarm renews it every interval... */
const PRESENCE_LEASE_INTERVALS = 3;
/** ...this many users at a time, this far apart. */
const LEASE_RENEW_SLICE = 10;
const LEASE_RENEW_GAP_MS = 50;
/** Conversations up to this size tell every member's inbox about presence changes. */
export const PRESENCE_FANOUT_MAX_MEMBERS = 100;
/** How long presence changes are gathered before they go to members' inboxes. */
const PRESENCE_FANOUT_DELAY_MS = 1000;
/** Sends are added to the search index this long after the first of them... */
const INDEX_DELAY_MS = 1000;
/** ...this many per turn of the event loop. */
const INDEX_SLICE = 25;
/** Frames per websocket message when replaying a backlog, and at most in one live batch. */
const REPLAY_BATCH = 50;

export interface CreateInit {
  id: string;
  kind: ConversationKind;
  title: string;
  private: boolean;
  /** The creator first; for a DM, both people. */
  members: User[];
}

export type Access = "ok" | "not_found" | "forbidden";
/** What a member's object announces about them (see memberPresence). */
export interface MemberPresence {
  online: boolean;
  watching: boolean;
  onlineChanged: boolean;
}
export type JoinResult = { ok: true; entry: IndexEntry; added: boolean } | { ok: false; reason: "not_found" | "forbidden" | "full" };

export class ConversationObject extends DurableObject<Env> {
  /** The limits in force; tests may lower one on a live instance. */
  limits: Limits;
  readonly store: ConversationStore;
  readonly notifier: Notifier;
  #codecs: Codecs;
  #meta: ConversationMeta | null | undefined;
  /** Presence changes not yet sent to members' inboxes (a second's worth at most). */
  readonly #presenceOut = new Map<string, boolean>();
  #presenceTimer: ReturnType<typeof setTimeout> | null = null;
  #indexTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Frames for every socket that wait for the end of the current turn (see #broadcast), and the
   * timer that sends them. Never kept across hibernation: a pending timer keeps the object awake.
   */
  #live: ServerFrame[] = [];
  #liveTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.limits = limitsFromEnv(env);
    this.#codecs = new Codecs(this.limits);
    this.store = new ConversationStore(ctx.storage.sql, (fn) => ctx.storage.transactionSync(fn));
    this.notifier = new Notifier(ctx.storage.sql, this.store, () => this.#metaOrThrow().id, (username, batch) =>
      this.env.USERS.get(this.env.USERS.idFromName(username)).activity(batch),
    );
    // Answered by the runtime without waking the object: idle sockets cost no CPU.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  #metaOrNull(): ConversationMeta | null {
    if (this.#meta === undefined) this.#meta = this.store.meta();
    return this.#meta;
  }

  #metaOrThrow(): ConversationMeta {
    const meta = this.#metaOrNull();
    if (!meta) throw new Error("conversation not created");
    return meta;
  }

  // ---- RPC from the Worker ---------------------------------------------------------------------

  /** Creates the conversation (idempotent: a DM asked for twice is the same conversation). */
  async create(init: CreateInit): Promise<IndexEntry[]> {
    const now = Date.now();
    if (!this.#metaOrNull()) {
      this.store.atomic(() => {
        this.store.initMeta({ id: init.id, kind: init.kind, title: init.title, private: init.private, created: now });
        for (const m of init.members) {
          this.store.addMember(m.username, m.name, now);
          if (init.kind === "room") this.store.memberEvent(m.username, true, now);
        }
        this.notifier.advanceTo(this.store.lastSeq());
      });
      this.#meta = undefined;
      await this.#seedPresence(init.members.map((m) => m.username));
    }
    return init.members.map((m) => this.#entryFor(m.username));
  }

  access(username: string): Access {
    if (!this.#metaOrNull()) return "not_found";
    return this.store.isMember(username) ? "ok" : "forbidden";
  }

  /** The conversation as one member sees it, for their index. */
  #entryFor(username: string): IndexEntry {
    const meta = this.#metaOrThrow();
    const member = this.store.member(username);
    const readSeq = member?.readSeq ?? 0;
    const entry: IndexEntry = {
      id: meta.id,
      kind: meta.kind,
      title: meta.title,
      lastSeq: this.store.lastSeq(),
      readSeq,
      unread: this.store.unreadFor(username, readSeq),
    };
    const last = this.store.lastMessage();
    if (last) entry.last = last;
    if (meta.kind === "dm") {
      const peer = this.store.members().find((m) => m.username !== username);
      if (peer) {
        entry.peer = peer.username;
        entry.title = peer.name;
      }
    } else {
      entry.members = this.store.memberCount();
      if (meta.private) entry.private = true;
    }
    return entry;
  }

  summaryFor(username: string): IndexEntry | null {
    return this.access(username) === "ok" ? this.#entryFor(username) : null;
  }

  /** Joins a public room, or re-joins any room one was invited to. */
  async join(user: User): Promise<JoinResult> {
    const meta = this.#metaOrNull();
    if (!meta) return { ok: false, reason: "not_found" };
    if (this.store.member(user.username)) return { ok: true, entry: this.#entryFor(user.username), added: false };
    if (meta.kind === "dm" || meta.private) return { ok: false, reason: "forbidden" };
    return this.#add(user);
  }

  /** A member adds someone to a room (private rooms are joined this way). */
  async invite(by: string, user: User): Promise<JoinResult> {
    const meta = this.#metaOrNull();
    if (!meta) return { ok: false, reason: "not_found" };
    if (meta.kind === "dm" || !this.store.member(by)) return { ok: false, reason: "forbidden" };
    if (this.store.member(user.username)) return { ok: true, entry: this.#entryFor(user.username), added: false };
    return this.#add(user);
  }

  async #add(user: User): Promise<JoinResult> {
    if (this.store.memberCount() >= this.limits.roomMembers) return { ok: false, reason: "full" };
    const now = Date.now();
    const seq = this.store.atomic(() => {
      this.store.addMember(user.username, user.name, now);
      return this.store.memberEvent(user.username, true, now);
    });
    this.#broadcast([{ t: "member", seq, username: user.username, joined: true, ts: now }]);
    this.notifier.schedule();
    await this.#seedPresence([user.username]);
    return { ok: true, entry: this.#entryFor(user.username), added: true };
  }

  /**
   * Asks new members' objects whether they are online: they announce only changes, so someone
   * already online would otherwise look offline here until their next change.
   */
  async #seedPresence(usernames: string[]): Promise<void> {
    const states = await Promise.allSettled(usernames.map((u) => this.env.USERS.get(this.env.USERS.idFromName(u)).presenceState()));
    states.forEach((state, i) => {
      const username = usernames[i]!;
      if (state.status !== "fulfilled") return;
      const { online, watching } = state.value;
      if (this.store.setPresence(username, online, watching)) this.#broadcast([{ t: "presence", username, online }], username);
    });
  }

  /** Who is online here, for a new member's inbox (empty for rooms too large to fan out). */
  onlineMembers(): string[] {
    return this.store.memberCount() <= PRESENCE_FANOUT_MAX_MEMBERS ? this.store.onlineMembers() : [];
  }

  /** Leaves a room: a member event, and the member's sockets here are closed. */
  leave(username: string): boolean {
    const meta = this.#metaOrNull();
    if (!meta || meta.kind === "dm") return false;
    const now = Date.now();
    const seq = this.store.atomic(() => (this.store.removeMember(username) ? this.store.memberEvent(username, false, now) : null));
    if (seq === null) return false;
    for (const ws of this.ctx.getWebSockets(username)) tryClose(ws, CLOSE.FORBIDDEN, "left the conversation");
    this.#broadcast([{ t: "member", seq, username, joined: false, ts: now }]);
    this.notifier.schedule();
    return true;
  }

  history(username: string, before: number | undefined, limit: number): { messages: Message[]; more: boolean } | null {
    if (this.access(username) !== "ok") return null;
    return this.store.history(before, Math.min(Math.max(1, limit), HISTORY_MAX));
  }

  search(username: string, q: string): Message[] | null {
    if (this.access(username) !== "ok") return null;
    return this.store.search(q, 50);
  }

  /** Closes every socket opened with a session that was just revoked. */
  closeSession(session: string): void {
    for (const ws of this.ctx.getWebSockets(`s:${session}`)) {
      const a = readAttachment(ws);
      tryClose(ws, CLOSE.UNAUTHORIZED, "session revoked");
      if (a) this.#wentAway(ws, a);
    }
  }

  // ---- sockets -----------------------------------------------------------------------------------

  override async fetch(request: Request): Promise<Response> {
    // A new socket must not receive frames queued before it existed: its replay covers them.
    this.#flushLive();
    // Tagged by user: presence and the per-user socket limit count a user's sockets here.
    const accepted = acceptForwarded(this.ctx, request, (user) => user);
    if (!accepted) return notForwarded();
    const { client, server, attachment } = accepted;
    const user = attachment.user;

    const refusal = this.#refusal(user);
    if (refusal) {
      tryClose(server, refusal.code, refusal.reason);
      return upgradeResponse(client, request);
    }
    const sinceParam = new URL(request.url).searchParams.get("since");
    const since = sinceParam !== null && /^\d{1,15}$/.test(sinceParam) ? Number(sinceParam) : null;
    // Someone with a socket open is online, whatever was last announced.
    if (this.store.setPresence(user, true)) this.#broadcast([{ t: "presence", username: user, online: true }], user);
    this.#welcome(server, attachment, since);
    await this.#ensureAlarm();
    return upgradeResponse(client, request);
  }

  #refusal(user: string): { code: number; reason: string } | null {
    if (!this.#metaOrNull()) return { code: CLOSE.NOT_FOUND, reason: "no such conversation" };
    if (!this.store.isMember(user)) return { code: CLOSE.FORBIDDEN, reason: "not a member of this conversation" };
    // This socket is already counted among the user's.
    if (this.ctx.getWebSockets(user).length > this.limits.socketsPerUser) {
      return { code: CLOSE.TOO_MANY_SOCKETS, reason: "too many sockets for this user" };
    }
    return null;
  }

  #welcome(ws: WebSocket, a: Attachment, since: number | null): void {
    const entry = this.#entryFor(a.user);
    // A socket opening here marks its user online in the presence table (see fetch), so the table
    // alone answers: no need to read every socket's attachment on every connect.
    const online = new Set(this.store.onlineMembers());
    const members: Member[] = this.store.members().map((m) => ({
      username: m.username,
      name: m.name,
      online: online.has(m.username),
      readSeq: m.readSeq,
    }));
    this.#send(ws, a, { t: "welcome", conv: entry, me: a.user, members });
    // Without `since` the client starts from now (it loads the past with `history`).
    this.#replay(ws, a, since ?? entry.lastSeq);
    if (this.ctx.getWebSockets(a.user).length === 1) this.#reportConnection(a.user, true);
  }

  /** Events after `since`, at most the backlog limit, batched; then `synced`. */
  #replay(ws: WebSocket, a: Attachment, since: number): void {
    // Queued live events go out first, so that none arrives again after the replay that held it.
    this.#flushLive();
    const lastSeq = this.store.lastSeq();
    if (since > lastSeq) {
      // The client holds events this conversation never had (storage reset): start over.
      this.#send(ws, a, { t: "synced", lastSeq, more: false, reset: true });
      return;
    }
    const events = this.store.eventsAfter(since, this.limits.backlog);
    const codec = this.#codecs.for(a.proto);
    for (let i = 0; i < events.length; i += REPLAY_BATCH) {
      const chunk = events.slice(i, i + REPLAY_BATCH);
      trySend(ws, chunk.length === 1 ? codec.encode(chunk[0]!) : codec.encodeBatch(chunk));
    }
    const upTo = events.length > 0 ? events[events.length - 1]!.seq : since;
    this.#send(ws, a, { t: "synced", lastSeq: upTo, more: upTo < lastSeq });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const a = readAttachment(ws);
    if (!a) return tryClose(ws, CLOSE.INTERNAL, "lost socket state");
    try {
      this.#onMessage(ws, a, data);
    } catch (err) {
      // Log the kind of failure only: never a body or a token.
      console.error("conversation: frame handler failed", err instanceof Error ? err.name : typeof err);
      this.#send(ws, a, { t: "error", code: "internal", message: "internal error" });
    }
  }

  #onMessage(ws: WebSocket, a: Attachment, data: string | ArrayBuffer): void {
    const now = Date.now();
    if (typeof data === "string" && data === PING) {
      // Normally answered by the runtime; kept for clients that ping while we are awake anyway.
      trySend(ws, PONG);
      return;
    }
    const decoded = this.#codecs.for(a.proto).decodeOne(data);
    if (!decoded.ok) {
      if (decoded.code === "too_large") return tryClose(ws, CLOSE.TOO_LARGE, decoded.message);
      return this.#refuse(ws, a, now, decoded.code, decoded.message);
    }
    const parsed = parseClientFrame(decoded.value, this.limits);
    if (!parsed.ok) return this.#refuse(ws, a, now, parsed.code, parsed.message, parsed.id);
    // Membership is checked on every frame: someone who left is out at once.
    if (!this.store.isMember(a.user)) return tryClose(ws, CLOSE.FORBIDDEN, "not a member of this conversation");
    if (now - a.seen > 1000) {
      a.seen = now;
      writeAttachment(ws, a);
    }
    this.#dispatch(ws, a, parsed.frame, now);
  }

  /** Answers a bad frame with an error; too many in a minute close the socket (1008). */
  #refuse(ws: WebSocket, a: Attachment, now: number, code: ErrorCode, message: string, id?: string): void {
    if (now - a.badSince > 60_000) {
      a.bad = 0;
      a.badSince = now;
    }
    a.bad++;
    writeAttachment(ws, a);
    if (a.bad > this.limits.badFramesPerMinute) return tryClose(ws, CLOSE.POLICY, "too many bad frames");
    this.#send(ws, a, id === undefined ? { t: "error", code, message } : { t: "error", code, message, id });
  }

  #error(ws: WebSocket, a: Attachment, code: ErrorCode, message: string, id?: string): void {
    this.#send(ws, a, id === undefined ? { t: "error", code, message } : { t: "error", code, message, id });
  }

  #dispatch(ws: WebSocket, a: Attachment, frame: ClientFrame, now: number): void {
    switch (frame.t) {
      case "send": {
        const existing = this.store.findByClientId(a.user, frame.id);
        if (existing) {
          this.#send(ws, a, { t: "ack", id: frame.id, seq: existing.seq, ts: existing.ts, dup: true });
          return;
        }
        if (frame.replyTo !== undefined && !this.store.message(frame.replyTo)) {
          return this.#error(ws, a, "not_found", "replyTo: no such message", frame.id);
        }
        if (!this.store.takeToken(a.user, now, this.limits.sendsPerSecond, this.limits.sendBurst)) {
          return this.#error(ws, a, "rate_limited", "sending too fast; resend this id later", frame.id);
        }
        const seq = this.store.insertMessage(a.user, frame.id, frame.body, frame.replyTo, now);
        // Sent after the insert: the output gate holds it until the write is durable.
        this.#send(ws, a, { t: "ack", id: frame.id, seq, ts: now });
        const msg: EventFrame = { t: "msg", seq, id: frame.id, from: a.user, body: frame.body, ts: now };
        if (frame.replyTo !== undefined) msg.replyTo = frame.replyTo;
        this.#broadcast([msg]);
        this.notifier.schedule();
        this.#scheduleIndexing();
        return;
      }
      case "sync":
        return this.#replay(ws, a, frame.since);
      case "read": {
        const seq = this.store.markRead(a.user, frame.seq);
        if (seq === null) return;
        this.#broadcast([{ t: "receipt", username: a.user, seq }]);
        const unread = this.store.unreadFor(a.user, seq);
        const asOf = this.store.lastSeq();
        const conv = this.#metaOrThrow().id;
        // Off the path: the user's object updates the badge on their other devices.
        this.ctx.waitUntil(
          this.env.USERS.get(this.env.USERS.idFromName(a.user)).readMoved(conv, seq, unread, asOf).catch(() => {}),
        );
        return;
      }
      case "typing":
        return this.#broadcast([{ t: "typing", username: a.user }], a.user);
      case "history":
        return this.#send(ws, a, { t: "history", ...this.store.history(frame.before, frame.limit ?? 50) });
      case "edit": {
        const target = this.#ownMessage(ws, a, frame.target);
        if (!target) return;
        const seq = this.store.editMessage(frame.target, a.user, frame.body, now);
        this.#broadcast([{ t: "edit", seq, target: frame.target, body: frame.body, ts: now }]);
        return;
      }
      case "delete": {
        const target = this.#ownMessage(ws, a, frame.target);
        if (!target) return;
        const seq = this.store.deleteMessage(frame.target, a.user, now);
        this.#broadcast([{ t: "delete", seq, target: frame.target, ts: now }]);
        this.notifier.schedule();
        return;
      }
      case "react": {
        const target = this.store.message(frame.target);
        if (!target || target.deleted) return this.#error(ws, a, "not_found", "react: no such message");
        const known = target.reactions?.some((r) => r.emoji === frame.emoji) ?? false;
        if (frame.on && !known && this.store.reactionKinds(frame.target) >= MAX_REACTION_KINDS) {
          return this.#error(ws, a, "full", "react: too many different reactions on this message");
        }
        const seq = this.store.react(frame.target, a.user, frame.emoji, frame.on, now);
        if (seq !== null) {
          this.#broadcast([{ t: "react", seq, target: frame.target, from: a.user, emoji: frame.emoji, on: frame.on, ts: now }]);
        }
        return;
      }
      default: {
        const unreachable: never = frame;
        return unreachable;
      }
    }
  }

  /** The target message if it exists, is not deleted and is the user's own; else an error. */
  #ownMessage(ws: WebSocket, a: Attachment, seq: number): Message | null {
    const m = this.store.message(seq);
    if (!m || m.deleted) {
      this.#error(ws, a, "not_found", "no such message");
      return null;
    }
    if (m.from !== a.user) {
      this.#error(ws, a, "forbidden", "only the author may change a message");
      return null;
    }
    return m;
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Answer the client's close frame (1005/1006 cannot be sent back; use 1000 then).
    tryClose(ws, code === 1005 || code === 1006 || code === 1015 ? CLOSE.NORMAL : code, reason);
    const a = readAttachment(ws);
    if (a) this.#wentAway(ws, a);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    const a = readAttachment(ws);
    if (a) this.#wentAway(ws, a);
  }

  /** After a socket ends: if it was the user's last one here, they went offline here. */
  #wentAway(ws: WebSocket, a: Attachment): void {
    const others = this.ctx.getWebSockets(a.user).filter((s) => s !== ws && s.readyState === WebSocket.OPEN);
    if (others.length === 0) this.#reportConnection(a.user, false);
  }

  // ---- presence ----------------------------------------------------------------------------------

  /**
   * Tells the user's object that they have sockets here (a lease, renewed by the heartbeat alarm) or
   * none any more. The user's object decides whether they are online, across all their devices,
   * and announces changes back through memberPresence.
   */
  #reportConnection(username: string, online: boolean): void {
    const meta = this.#metaOrNull();
    if (!meta) return;
    const until = Date.now() + PRESENCE_LEASE_INTERVALS * this.limits.heartbeatMs;
    const user = this.env.USERS.get(this.env.USERS.idFromName(username));
    this.ctx.waitUntil(user.connection(meta.id, online, until).catch(() => {}));
  }

  /**
   * Renews the presence leases of everyone connected here, a slice at a time: in a big room a
   * burst of one call per member would hold up the sends that arrive meanwhile. A lease lasts
   * several intervals, so spreading the renewals over a second loses nothing.
   */
  #renewLeases(usernames: string[]): void {
    for (let i = 0; i < usernames.length; i += LEASE_RENEW_SLICE) {
      const slice = usernames.slice(i, i + LEASE_RENEW_SLICE);
      const renew = () => {
        for (const u of slice) this.#reportConnection(u, true);
      };
      if (i === 0) renew();
      else this.ctx.waitUntil(new Promise<void>((resolve) => setTimeout(() => resolve(renew()), (i / LEASE_RENEW_SLICE) * LEASE_RENEW_GAP_MS)));
    }
  }

  /**
   * A member's object announces their state: online or not, and whether they have an inbox open
   * (`watching`); `onlineChanged` when the first changed. Members' inboxes hear of presence
   * changes and new messages only while they watch. When a member starts watching, the answer is
   * who is online here and the conversation as they see it now (null otherwise): their object
   * rebuilds from it what it stopped following while no inbox was open.
   */
  memberPresence(username: string, state: MemberPresence): WatchSnapshot | null {
    if (!this.store.isMember(username)) return null;
    const { online, watching, onlineChanged } = state;
    // A member's socket opening here may already have shown them online to this room.
    if (this.store.setPresence(username, online, watching)) this.#broadcast([{ t: "presence", username, online }], username);
    // The user's object announces only real changes, so every watching inbox hears this one.
    if (onlineChanged && this.store.memberCount() <= PRESENCE_FANOUT_MAX_MEMBERS) {
      this.#presenceOut.set(username, online);
      this.#schedulePresenceFanout();
    }
    return watching ? { online: this.onlineMembers(), entry: this.#entryFor(username) } : null;
  }

  /**
   * Changes are gathered for a moment and sent as one call per member: when a team comes online
   * together, each member's object gets one call, not one per colleague. A DM goes at once.
   */
  #schedulePresenceFanout(): void {
    if (this.#presenceTimer !== null) return;
    const delay = this.store.memberCount() <= 2 ? 0 : PRESENCE_FANOUT_DELAY_MS;
    this.ctx.waitUntil(
      new Promise<void>((resolve) => {
        this.#presenceTimer = setTimeout(() => {
          this.#presenceTimer = null;
          const changes = [...this.#presenceOut].map(([username, online]) => ({ username, online }));
          this.#presenceOut.clear();
          // Only members with an inbox open, each the same list (each object skips its own name):
          // the others learn the state when they next open one (see memberPresence).
          const calls = this.store.watchers().map((u) => this.env.USERS.get(this.env.USERS.idFromName(u)).peerPresence(changes));
          void Promise.allSettled(calls).then(() => resolve());
        }, delay);
      }),
    );
  }

  /**
   * Builds the search index a moment after sends, in small slices with a turn of the event loop
   * between them: a trigram index costs a lot per message, and one long slice would hold up every
   * send that arrives meanwhile (a latency spike once a second under load).
   */
  #scheduleIndexing(delay = INDEX_DELAY_MS): void {
    if (this.#indexTimer !== null) return;
    this.ctx.waitUntil(
      new Promise<void>((resolve) => {
        this.#indexTimer = setTimeout(() => {
          this.#indexTimer = null;
          try {
            if (this.store.indexPending(INDEX_SLICE) === INDEX_SLICE) this.#scheduleIndexing(0);
          } catch (err) {
            // Search indexes whatever is left on its next query.
            console.error("conversation: indexing failed", err instanceof Error ? err.name : typeof err);
          }
          resolve();
        }, delay);
      }),
    );
  }

  // ---- heartbeat and retries ---------------------------------------------------------------------

  async #ensureAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + this.limits.heartbeatMs);
    }
  }

  /** Closes sockets silent for two heartbeat intervals; retries failed notifications. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const limit = 2 * this.limits.heartbeatMs;
    for (const ws of this.ctx.getWebSockets()) {
      const a = readAttachment(ws);
      if (!a) continue;
      const pong = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
      if (now - Math.max(a.seen, a.opened, pong) > limit) {
        tryClose(ws, CLOSE.GOING_AWAY, "no heartbeat");
        this.#wentAway(ws, a);
      }
    }
    const connected = new Set(this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).map((ws) => readAttachment(ws)?.user));
    this.#renewLeases([...connected].filter((u): u is string => u !== undefined));
    if (this.#metaOrNull()) {
      if (this.notifier.cursor() < this.store.lastSeq()) this.notifier.schedule();
      await this.notifier.settle();
      await this.notifier.retry();
    }
    if (this.ctx.getWebSockets().length > 0 || (this.#metaOrNull() && this.notifier.pending())) {
      await this.ctx.storage.setAlarm(now + this.limits.heartbeatMs);
    }
  }

  // ---- sending -----------------------------------------------------------------------------------

  #send(ws: WebSocket, a: Attachment, frame: ServerFrame): void {
    trySend(ws, this.#codecs.for(a.proto).encode(frame));
  }

  /**
   * To every socket here, or all but `exceptUser`'s. Frames for everyone wait for the end of the
   * turn: under load the runtime delivers several sends before a timer fires, and their events
   * then leave as one websocket message per socket (a batch, PROTOCOL.md 3.1) instead of one each:
   * the per-socket cost of a send is paid once per batch. Frames keep their order on every socket:
   * a broadcast that skips someone, a replay, and a new socket each send the queue first.
   */
  #broadcast(frames: ServerFrame[], exceptUser?: string): void {
    if (exceptUser !== undefined) {
      this.#flushLive();
      broadcast(this.ctx, this.#codecs, frames, new Set(this.ctx.getWebSockets(exceptUser)));
      return;
    }
    this.#live.push(...frames);
    if (this.#live.length >= REPLAY_BATCH) this.#flushLive();
    else this.#liveTimer ??= setTimeout(() => this.#flushLive(), 0);
  }

  #flushLive(): void {
    if (this.#liveTimer !== null) {
      clearTimeout(this.#liveTimer);
      this.#liveTimer = null;
    }
    if (this.#live.length === 0) return;
    const frames = this.#live;
    this.#live = [];
    broadcast(this.ctx, this.#codecs, frames);
  }
}
