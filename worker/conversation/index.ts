/**
 * One Durable Object per conversation: it owns the truth. It assigns `seq`, sender and time,
 * checks membership on connect and on every frame, writes before it acknowledges, and keeps in
 * memory only what it can rebuild after hibernation (per-socket state lives in the attachment,
 * everything else in SQLite).
 *
 * This file is the object's surface: the calls the Worker and the user objects make, the socket
 * hooks of SocketObject, and the alarm. The log is in store.ts, the frames in frames.ts, and
 * presence, notifications, membership sync and search each in a module of their own.
 */
import {
  CLOSE,
  HISTORY_MAX,
  type ConversationKind,
  type Member,
  type Message,
  type ServerFrame,
  type Summary,
  type User,
} from "../../protocol";
import { AlarmClock } from "../alarm-clock";
import { sameSessions } from "../same-sessions";
import { SocketObject, sessionRefusal, upgradeBudget, type Identity, type Refusal } from "../socket-object";
import { readAttachment, trySend, type Attachment } from "../sockets";
import type { AnnounceAnswer, IndexEntry, PeerPresence, PresenceReport, SocketLease } from "../user";
import type { SessionCheck } from "../user/account";
import { Budgets, replayStopped } from "./budgets";
import { CheckedSessions } from "./checked-sessions";
import { QuickAdmits } from "./quick-admits";
import { ReplayMemo } from "./replay-memo";
import { ConversationFiles, type FileRecord } from "./files";
import { FrameHandler } from "./frames";
import { Invites, type InviteAnswer, type InviteOp } from "./invites";
import { LiveQueue } from "./live";
import { MemberSync } from "./member-sync";
import { Membership } from "./membership";
import { Notifier } from "./notify";
import { ConversationPresence } from "./presence";
import { PresenceTable } from "./presence-table";
import { AccountChanges, type AccountChange } from "./profile";
import { Moderation, type ModAction, type ModAnswer } from "./roles";
import { SearchIndex, type SearchResult } from "./search-index";
import { CheckedSessionsTable } from "./checked-sessions-table";
import { installSchema } from "./schema";
import { ConversationStore, type ConversationMeta } from "./store";

export { MAX_REACTION_KINDS } from "./frames";
export { PRESENCE_FANOUT_MAX_MEMBERS } from "./presence";

/** Frames per websocket message when replaying a backlog, and at most in one live batch. */
export const REPLAY_BATCH = 50;

export interface CreateInit {
  id: string;
  kind: ConversationKind;
  title: string;
  private: boolean;
  /** The creator first; for a DM, both people. */
  members: User[];
}

export type Access = "ok" | "not_found" | "forbidden";
export type JoinResult = { ok: true; summary: Summary; added: boolean } | { ok: false; reason: "not_found" | "forbidden" | "full" | "banned" };
export type { ModAction, ModAnswer, RoomPatch } from "./roles";
export type { InviteAnswer, InviteOp } from "./invites";
export type { AccountChange } from "./profile";

export class ConversationObject extends SocketObject {
  readonly store: ConversationStore;
  readonly notifier: Notifier;
  readonly presence: ConversationPresence;
  readonly search: SearchIndex;
  readonly sync: MemberSync;
  readonly budgets: Budgets;
  readonly mod: Moderation;
  readonly profiles: AccountChanges;
  readonly files: ConversationFiles;
  readonly members: Membership;
  readonly invites: Invites;
  readonly #table: PresenceTable;
  readonly #clock: AlarmClock;
  readonly #frames: FrameHandler;
  #meta: ConversationMeta | null | undefined;
  /** The tables were erased (see #held). */
  #wiped = false;
  readonly #live: LiveQueue;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    this.#live = new LiveQueue(ctx, this.codecs);
    this.store = new ConversationStore(sql, (fn) => ctx.storage.transactionSync(fn));
    this.#clock = new AlarmClock(ctx.storage);
    // v1.1 files: messages carry theirs and take them along when deleted; the bytes leave R2 just
    // after the deletion is stored (or with the alarm, which retries).
    this.files = new ConversationFiles(sql, () => env.FILES);
    this.store.files = {
      refsFor: (seqs) => this.files.refsFor(seqs),
      dropFor: (seq) => {
        this.files.dropFor(seq);
        setTimeout(() => this.ctx.waitUntil(this.files.purge().catch(() => {})), 0);
      },
    };
    this.#table = new PresenceTable(sql, this.store);
    const owing = () => this.#ensureAlarm();
    const convId = () => this.#metaOrNull()?.id ?? null;
    this.notifier = new Notifier(sql, this.store, {
      convId: () => this.#metaOrThrow().id,
      deliver: (username, batch) => this.#user(username).activity(batch),
      // Inboxes open and (v1.1) push subscriptions: presence-table.ts.
      watchers: () => this.#table.recipients(),
      owing,
    });
    this.presence = new ConversationPresence({
      env, ctx, store: this.store, table: this.#table, convId,
      heartbeatMs: () => this.limits.heartbeatMs,
      hasSocket: (u) => this.openSockets(u).length > 0,
      sessionsOf: (u) => [...new Set(this.openSockets(u).map((ws) => readAttachment(ws)?.session ?? ""))].filter((s) => s !== ""),
      connected: () => {
        const users = new Set<string>();
        for (const ws of this.openSockets()) {
          const user = readAttachment(ws)?.user;
          if (user) users.add(user);
        }
        return users;
      },
      broadcast: (frames, exceptUser) => this.broadcastAll(frames, exceptUser),
      endSession: (session) => this.closeSession(session),
      sessionsLive: (user, sessions, at) => {
        for (const session of sessions) this.#checked.checked(user, session, at);
      },
    });
    this.search = new SearchIndex(sql, this.store, ctx);
    this.sync = new MemberSync(sql, this.store, { env, convId, entryFor: (u) => this.members.entryOrNull(u), owing });
    this.budgets = new Budgets(sql);
    this.mod = new Moderation(sql, {
      store: this.store, sync: this.sync,
      held: () => this.#held(),
      metaChanged: () => {
        this.#meta = undefined;
      },
      broadcastAll: (frames) => this.broadcastAll(frames),
      closeSockets: (username, code, reason) => {
        for (const ws of username === null ? this.openSockets() : this.openSockets(username)) this.closeSocket(ws, code, reason);
      },
      scheduleNotify: () => this.notifier.schedule(),
      online: () => this.presence.onlineSet(),
      lastSeen: (u) => this.presence.lastSeen(u),
      background: (work) => this.ctx.waitUntil(work),
    });
    this.profiles = new AccountChanges(sql, {
      store: this.store, sync: this.sync,
      kind: () => this.#metaOrThrow().kind,
      broadcastAll: (frames) => this.broadcastAll(frames),
      closeSockets: (username, code, reason) => {
        for (const ws of this.openSockets(username)) this.closeSocket(ws, code, reason);
      },
      leave: (username) => this.leave(username),
    });
    this.members = new Membership({
      store: this.store, sync: this.sync, notifier: this.notifier, presence: this.presence, mod: this.mod,
      limits: () => this.limits,
      meta: () => this.#metaOrNull(),
      metaOrThrow: () => this.#metaOrThrow(),
      held: () => this.#held(),
      metaChanged: () => {
        this.#meta = undefined;
      },
      ensureSchema: () => {
        if (!this.#wiped) return;
        installSchema(this.ctx.storage.sql);
        this.#wiped = false;
      },
      access: (u) => this.access(u),
      broadcastAll: (frames) => this.broadcastAll(frames),
      openSockets: (u) => this.openSockets(u),
      closeSocket: (ws, code, reason) => this.closeSocket(ws, code, reason),
    });
    this.invites = new Invites(sql, { store: this.store, mod: this.mod, held: () => this.#held() });
    const self = this;
    this.#frames = new FrameHandler({
      get limits() {
        return self.limits;
      },
      store: this.store,
      budgets: this.budgets,
      notifier: this.notifier,
      search: this.search,
      mod: this.mod,
      files: this.files,
      blockedSender: (u) => this.profiles.isBlocked(u),
      codecsFor: () => this.codecs,
      reply: (ws, a, frame) => this.send(ws, a, frame),
      broadcastAll: (frames, exceptUser) => this.broadcastAll(frames, exceptUser),
      replay: (ws, a, since) => this.replay(ws, a, since),
      readMoved: (username, seq) => this.#readMoved(username, seq),
      closeFrom: (ws, code, reason) => this.closeSocket(ws, code, reason),
      touchSocket: (ws, a, now) => this.touch(ws, a, now),
    });
  }

  #metaOrNull(): ConversationMeta | null {
    if (this.#meta === undefined) this.#meta = this.store.meta();
    return this.#meta;
  }

  /**
   * The conversation, when this object holds one. Asked about one it does not hold (an id that was
   * never created), the object erases the tables its constructor made: a made-up id must leave no
   * storage behind. `create` installs them again.
   */
  #held(): ConversationMeta | null {
    const meta = this.#metaOrNull();
    // A deleted room answers as none; its storage goes once every member's list has heard.
    if (meta?.deleted) return null;
    if (!meta && !this.#wiped) {
      this.#wiped = true;
      this.#replays.clear();
      // Not awaited: the output gate holds the answer until the deletion is durable.
      void this.ctx.storage.deleteAll();
    }
    return meta;
  }

  #metaOrThrow(): ConversationMeta {
    const meta = this.#metaOrNull();
    if (!meta) throw new Error("conversation not created");
    return meta;
  }

  #user(username: string) {
    return this.env.USERS.get(this.env.USERS.idFromName(username));
  }

  // ---- calls from the Worker -------------------------------------------------------------------

  access(username: string): Access {
    if (!this.#held()) return "not_found";
    return this.store.isMember(username) ? "ok" : "forbidden";
  }

  /**
   * Creates the conversation (idempotent: a DM asked for twice is the same conversation) and puts
   * it in every member's list. Returns each member's summary, in the order given.
   */
  create(init: CreateInit): Promise<Summary[]> {
    return this.members.create(init);
  }

  summaryFor(username: string): IndexEntry | null {
    return this.members.entryOrNull(username);
  }

  /** Joins a public room, or re-joins any room one was invited to. */
  join(user: User): Promise<JoinResult> {
    return this.members.join(user);
  }

  /** Joins a private room with an invite link: refused (forbidden) when it is not a live link of this room. */
  joinByInvite(user: User, token: string): Promise<JoinResult> {
    if (!this.#held()) return Promise.resolve({ ok: false, reason: "not_found" });
    return this.members.join(user, this.invites.valid(token));
  }

  /** Invite links: made, listed and revoked by admins and the owner (invites.ts). */
  manageInvites(by: string, action: InviteOp): InviteAnswer {
    return this.invites.run(by, action);
  }

  /** A member adds someone to a room (membership.ts has the rules). */
  invite(by: string, user: User): Promise<JoinResult> {
    return this.members.invite(by, user);
  }

  /** Every member's announced state, for a new member's contacts (empty for rooms too large to fan out). */
  presenceStates(): PeerPresence[] {
    if (!this.#held()) return [];
    return this.presence.announcedStates();
  }

  /** Leaves a room; false when they were not a member (membership.ts). */
  leave(username: string): Promise<boolean> {
    return this.members.leave(username);
  }

  // ---- roles, moderation and members' accounts (v1.1: roles.ts, profile.ts) ------------------

  membersOf(caller: string): Member[] | null {
    return this.mod.members(caller);
  }

  /** Room settings, roles, removal, bans and deletion; every permission is checked in roles.ts. */
  async moderate(by: string, action: ModAction): Promise<ModAnswer> {
    const answer = await this.mod.run(by, action, () => this.members.entryFor(by));
    if (answer.ok && action.op === "delete") {
      // Nobody is told of a deleted room's last events: no round may start or keep going.
      this.notifier.advanceTo(this.store.lastSeq());
      await this.#finishDeletion();
    }
    return answer;
  }

  /**
   * A deleted room's storage goes once no member's list is owed the news any more (else the
   * alarm retries the notes and comes back here), and no notification round is still running.
   */
  async #finishDeletion(): Promise<void> {
    if (!this.#metaOrNull()?.deleted || this.sync.pending()) return;
    await this.notifier.settle();
    if (this.#wiped) return;
    // The files' bytes in R2 go first: once the tables are erased nothing would name them.
    await this.files.purgeAll().catch(() => {});
    if (this.#wiped) return;
    this.#meta = null;
    this.#wiped = true;
    this.#replays.clear();
    await this.ctx.storage.deleteAll();
  }

  /** A member's name changed or their account was erased (their object retries until this returns). */
  memberChanged(username: string, change: AccountChange): Promise<void> {
    if (!this.#held()) return Promise.resolve();
    // An erased account's sessions are gone with it: its next socket here is asked about.
    if ("erased" in change) this.#checked.forgetUser(username);
    return this.profiles.apply(username, change);
  }

  /** A DM member's object says whether they block the other (7.2; retried until this returns). */
  blockChanged(blocker: string, blocked: string, on: boolean): void {
    if (this.#held()) this.profiles.blockChanged(blocker, blocked, on);
  }

  // ---- files (v1.1, issue 15: files.ts; the bytes are streamed to R2 by routes/files.ts) -------

  /** Records a file a member uploaded to R2; the alarm removes it if it is never attached. */
  async addFile(username: string, file: FileRecord): Promise<Access> {
    const access = this.access(username);
    if (access !== "ok") return access;
    this.files.add(file);
    await this.#ensureAlarm();
    return "ok";
  }

  /** A file's record, for a member only. */
  fileFor(username: string, id: string): { access: Access; file: FileRecord | null } {
    const access = this.access(username);
    return { access, file: access === "ok" ? this.files.get(id) : null };
  }

  history(username: string, before: number | undefined, limit: number): { messages: Message[]; more: boolean } | null {
    if (this.access(username) !== "ok") return null;
    return this.store.history(before, Math.min(Math.max(1, limit), HISTORY_MAX));
  }

  find(username: string, q: string): SearchResult | null {
    if (this.access(username) !== "ok") return null;
    return this.search.search(q);
  }

  /** Closes every socket opened with a session that was just revoked. */
  closeSession(session: string): void {
    this.#checked.forget(session);
    for (const ws of this.ctx.getWebSockets(`s:${session}`)) this.closeSocket(ws, CLOSE.UNAUTHORIZED, "session revoked");
  }

  /**
   * A member's object announces their state. The answer tells it whether they are still a member
   * and, when they watch, the conversation as they see it and every member's announced state.
   */
  async memberPresence(username: string, report: PresenceReport): Promise<AnnounceAnswer> {
    if (this.access(username) !== "ok") return { member: false };
    this.presence.announce(username, report);
    const answer: AnnounceAnswer = !report.watching
      ? { member: true, snapshot: null }
      : { member: true, snapshot: { presence: this.presence.announcedStates(), entry: this.members.indexEntry(username) } };
    // Answered once stored: a change of `online` alone is written with others a moment later
    // (presence-table.ts), and the member's object tells again a conversation that failed.
    await this.#table.saved();
    return answer;
  }

  // ---- sockets (hooks of SocketObject) ------------------------------------------------------------

  protected ownerTag(who: Identity): string {
    // Tagged by user: presence and the per-user socket limit count a user's sockets here.
    return who.user;
  }

  protected refusal(who: Identity): Refusal | null {
    if (!this.#held()) return { code: CLOSE.NOT_FOUND, reason: "no such conversation" };
    if (!this.store.isMember(who.user)) return { code: CLOSE.FORBIDDEN, reason: "not a member of this conversation" };
    return null;
  }

  /**
   * The session is checked here, not in the Worker: the member's object checks it (and takes the
   * upgrade from its request budget) and, for the first socket of that session here, sets the
   * presence lease in the same call. One call between objects per upgrade instead of two (a
   * reconnect storm paid both for each of its sockets). The Worker has already checked the
   * token's signature and expiry, so a forged token never wakes a conversation. A refused session
   * outranks the local refusal, as it did when the Worker checked it first.
   *
   * Some upgrades need no call at all, within a small allowance per session (QuickAdmits):
   * - another socket of a session with one open here (a second tab, a reconnect before the old
   *   socket was seen to drop): it was live when that socket was admitted, and its lease is set;
   * - a session its member's object said was live a moment ago (checked-sessions.ts): the
   *   lease goes to their object later, with the next renewal if they are announced online,
   *   a moment after the socket opened if not (ConversationPresence.deferReport). In a
   *   reconnect storm that spares a call per socket, and, but for one or two, each member's
   *   conversations learn that they are back from the announcement of the first report
   *   (issue 17). A member announced offline meanwhile is reported at once (announce).
   * A sign-out closes a session's sockets here and forgets it (or the next renewal does, when
   * that call was lost).
   */
  protected override async admission(who: Identity, request: Request, refused: Refusal | null): Promise<Refusal | null> {
    const now = Date.now();
    const held = refused === null && this.#otherSocketOf(this.openSockets(who.user), null, who.session);
    const known = refused === null && !held && this.#checked.live(who.user, who.session, now);
    if ((held || known) && this.#quickAdmits.take(who.session, now)) {
      if (known) this.#unreported.add(request);
      return null;
    }
    const lease = refused === null && !held ? this.presence.leaseOf(who.user, who.session) : null;
    let check: SessionCheck;
    try {
      check = await this.#user(who.user).admitSocket(who.session, upgradeBudget(this.limits), lease);
    } catch {
      // The answer was lost, perhaps not the call: a lease it may have set is put right.
      if (lease) this.presence.report(who.user, this.openSockets(who.user).length > 0);
      return { code: CLOSE.INTERNAL, reason: "could not check the session; try again" };
    }
    if (!check.ok) return sessionRefusal(check);
    // Remembered (and stored) only where a socket of it is admitted: not in a made-up conversation.
    if (refused === null) this.#checked.checked(who.user, who.session, now);
    if (lease) this.#leased.set(request, lease);
    return null;
  }

  /** Upgrades admitted without a call, per session (see admission). */
  readonly #quickAdmits = new QuickAdmits();

  /** Sessions checked a moment ago (see admission), kept in storage for the wake after a restart; forgotten on a sign-out. */
  readonly #checked: CheckedSessions = new CheckedSessions(
    () => this.limits.heartbeatMs,
    new CheckedSessionsTable(this.ctx.storage.sql, (session) => this.#checked.entry(session)),
  );

  /** Replays read and encoded once for the sockets that come back with one seq (replay-memo.ts). */
  readonly #replays = new ReplayMemo();

  /** Upgrades whose admission carried their session's lease: `opened` then reports nothing. */
  readonly #leased = new WeakMap<Request, SocketLease>();

  /** Upgrades admitted on a session checked a moment ago: their lease is told later. */
  readonly #unreported = new WeakSet<Request>();

  /** Queued live frames go before a socket is accepted or closed by us (see SocketObject). */
  protected override flushQueued(): void {
    this.flushLive();
  }

  protected async opened(ws: WebSocket, a: Attachment, request: Request): Promise<void> {
    const sinceParam = new URL(request.url).searchParams.get("since");
    const since = sinceParam !== null && /^\d{1,15}$/.test(sinceParam) ? Number(sinceParam) : null;
    const mine = this.openSockets(a.user);
    const leased = this.#leased.get(request);
    const unreported = this.#unreported.has(request);
    if (mine.length === 1) this.presence.firstSocketOpened(a.user, leased !== undefined || unreported);
    // Another device's first socket here: its session joins the lease (a push then skips that
    // device). More sockets of a session already counted change nothing: no call (a reconnect
    // storm opens many at once). The lease that went with the session check is told again only
    // if another session's socket came or went while that call was out. One admitted on a session
    // checked a moment ago is told later (see admission).
    if (unreported) this.presence.deferReport(a.user);
    else if (leased) {
      if (!sameSessions(leased.sessions, this.presence.leaseOf(a.user)?.sessions ?? [])) this.presence.report(a.user, true);
    } else if (mine.length > 1 && !this.#otherSocketOf(mine, ws, a.session)) this.presence.report(a.user, true);
    this.#welcome(ws, a, since);
    await this.#ensureAlarm();
  }

  #welcome(ws: WebSocket, a: Attachment, since: number | null): void {
    const entry = this.members.entryFor(a.user);
    const members: Member[] = this.mod.memberList();
    this.send(ws, a, { t: "welcome", conv: entry, me: a.user, members });
    // Without `since` the client starts from now (it loads the past with `history`).
    this.replay(ws, a, since ?? entry.lastSeq);
  }

  /** Events after `since`, at most the backlog limit, batched; then `synced`. */
  replay(ws: WebSocket, a: Attachment, since: number): void {
    // Queued live events go out first, so that none arrives again after the replay that held it.
    this.flushLive();
    const lastSeq = this.store.lastSeq();
    if (since > lastSeq) {
      // The client holds events this conversation never had (storage reset): start over.
      this.send(ws, a, { t: "synced", lastSeq, more: false, reset: true });
      return;
    }
    // Nothing missed (a reconnect that was already up to date, a second tab): no log query.
    let upTo = since;
    if (since < lastSeq) {
      const codec = this.codecs.for(a.proto);
      // The sockets coming back together with one seq share one read and one encode (replay-memo.ts).
      const replay = this.#replays.replay(since, lastSeq, a.proto, () => this.store.eventsAfter(since, this.limits.backlog), (events) => {
        const payloads = [];
        for (let i = 0; i < events.length; i += REPLAY_BATCH) {
          const chunk = events.slice(i, i + REPLAY_BATCH);
          payloads.push(chunk.length === 1 ? codec.encode(chunk[0]!) : codec.encodeBatch(chunk));
        }
        return payloads;
      });
      for (const payload of replay.payloads) trySend(ws, payload);
      upTo = replay.upTo;
    }
    replayStopped(ws, upTo < lastSeq ? upTo : null);
    this.send(ws, a, { t: "synced", lastSeq: upTo, more: upTo < lastSeq });
  }

  protected frame(ws: WebSocket, a: Attachment, data: string | ArrayBuffer): void {
    this.#frames.handle(ws, a, data);
  }

  protected gone(_ws: WebSocket, a: Attachment): void {
    // The socket is no longer counted as open (SocketObject reports it once it ended).
    const mine = this.openSockets(a.user);
    if (mine.length === 0) this.presence.lastSocketGone(a.user);
    // The session's last socket here: the lease no longer names it.
    else if (!this.#otherSocketOf(mine, null, a.session)) this.presence.report(a.user, true);
  }

  /** Whether a socket among `sockets`, other than `except`, was opened with `session`. */
  #otherSocketOf(sockets: WebSocket[], except: WebSocket | null, session: string): boolean {
    return sockets.some((s) => s !== except && readAttachment(s)?.session === session);
  }

  /** Tells the member's own object that their read mark moved (off the frame's path). */
  #readMoved(username: string, seq: number): void {
    const unread = this.store.unreadFor(username, seq);
    const mentionSeqs = this.store.unreadMentions(username, seq);
    const asOf = this.store.lastSeq();
    const conv = this.#metaOrThrow().id;
    this.ctx.waitUntil(this.#user(username).readMoved(conv, seq, unread, asOf, mentionSeqs).catch(() => {}));
  }

  // ---- the alarm: heartbeat, leases and retries --------------------------------------------------

  #ensureAlarm(): Promise<void> {
    return this.#clock.ensure(Date.now() + this.limits.heartbeatMs).catch(() => {});
  }

  #pendingWork(): boolean {
    if (!this.#metaOrNull()) return false;
    return this.notifier.pending() || this.sync.pending() || this.search.behind() || this.files.pending();
  }

  /**
   * Every interval, whatever the traffic: re-arms first, then sweeps silent sockets, renews the
   * presence leases of everyone connected, and starts the retries. Nothing here waits for work
   * that new traffic can extend (a busy room's notifier never finishes), so it always returns.
   */
  override async alarm(): Promise<void> {
    this.#clock.fired();
    const now = Date.now();
    if (this.ctx.getWebSockets().length > 0 || this.#pendingWork()) {
      await this.#clock.rearm(now + this.limits.heartbeatMs).catch(() => {});
    }
    this.sweep(now);
    const connected = new Set<string>();
    for (const ws of this.openSockets()) {
      const user = readAttachment(ws)?.user;
      if (user) connected.add(user);
    }
    this.presence.renewLeases([...connected]);
    if (!this.#metaOrNull()) return;
    this.notifier.tick();
    this.ctx.waitUntil(this.sync.retry().then(() => this.#finishDeletion()));
    if (this.search.behind()) this.search.schedule(0);
    // Files never attached go after a day; bytes whose deletion failed are retried.
    this.ctx.waitUntil(this.files.sweep(now).catch(() => {}));
  }

  // ---- sending (live.ts) -----------------------------------------------------------------------

  /** To every socket here, or all but `exceptUser`'s, in order, batched per turn (live.ts). */
  broadcastAll(frames: ServerFrame[], exceptUser?: string): void {
    this.#live.broadcast(frames, exceptUser);
  }

  flushLive(): void {
    this.#live.flush();
  }
}
