/**
 * One Durable Object per user: the account (the password hash never leaves it), the sessions,
 * the index of the user's conversations with unread counts, presence, and the inbox socket that
 * keeps a side bar current without opening every conversation.
 */
import { CLOSE, type InboxServerFrame, type Me, type Summary, type User } from "../../protocol";
import { dmId } from "../ids";
import { Account, type SessionInfo, type RequestBudget, type LoginResult, type RoomReservation, type SessionCheck, type SignupResult } from "./account";
import { AlarmClock } from "../alarm-clock";
import { SocketObject, sessionRefusal, upgradeBudget, type Identity, type Refusal } from "../socket-object";
import { broadcast, readAttachment, type Attachment } from "../sockets";
import { ConversationIndex } from "./conversations";
import { Presence, presenceFrame } from "./presence";
import { Settings } from "./settings";
import { FileQuota, type QuotaAnswer } from "./file-quota";
import type { CheckedSubscription } from "../push/subscription";
import { PushSubscriptions } from "./push-subscriptions";
import { PushSender } from "./push-sender";
import type { LeasedSessions } from "./presence";
import { installUserSchema } from "./install-schema";
import type { ActivityBatch, IndexEntry, LeaseAnswer, PeerPresence, PresenceReport, SocketLease } from "./types";
import { Watch } from "./watch";

export type { ActivityBatch, ActivityItem, AnnounceAnswer, IndexEntry, LeaseAnswer, PeerPresence, PresenceReport, SocketLease, WatchSnapshot } from "./types";

export type { LoginResult, SignupResult } from "./account";
export { LOGIN_FAILURES_ALLOWED, LOGIN_WINDOW_MS } from "./account";
const INBOX_TAG = "inbox";

/** Whether a conversation looks different in the list, other than by activity. */
function changedLook(a: Summary, b: Summary): boolean {
  return a.title !== b.title || a.topic !== b.topic || a.role !== b.role || a.private !== b.private;
}

export class UserObject extends SocketObject {
  readonly sql: SqlStorage;
  readonly index: ConversationIndex;
  readonly presence: Presence;
  readonly account: Account;
  readonly watch: Watch;
  readonly fileQuota: FileQuota;
  readonly settings: Settings;
  readonly pushSubs: PushSubscriptions;
  readonly pushSender: PushSender;
  readonly #clock: AlarmClock;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    installUserSchema(this.sql);
    this.index = new ConversationIndex(this.sql);
    this.account = new Account(ctx.storage);
    this.presence = new Presence(this.sql);
    this.#clock = new AlarmClock(ctx.storage);
    this.fileQuota = new FileQuota(this.sql);
    this.pushSubs = new PushSubscriptions(this.sql);
    this.pushSender = new PushSender(this.sql, {
      env, ctx, subs: this.pushSubs, index: this.index,
      looking: () => this.#looking(),
      live: (session) => this.account.isLive(session),
      previews: () => this.account.previews(),
      subsChanged: () => this.#reevaluate(),
      wake: (at) => this.ctx.waitUntil(this.#clock.ensure(at).catch(() => {})),
    });
    this.watch = new Watch({
      env, ctx, index: this.index, presence: this.presence,
      me: () => this.profile()?.username ?? null,
      pushing: () => this.pushSubs.any(),
      toInbox: (frames) => this.#toInbox(frames),
    });
    // My last announced state may not have reached every conversation before the instance
    // before this one went (a reset, a deploy): announced again, unless a change comes first.
    this.watch.resume();
    this.settings = new Settings(this.sql, {
      env,
      me: () => this.profile()?.username ?? this.account.erasedUsername(),
      owing: () => this.ctx.waitUntil(this.#clock.ensure(Date.now() + this.limits.heartbeatMs).catch(() => {})),
    });
  }

  // ---- account and sessions (the storage logic is in account.ts) ---------------------------

  profile(): User | null {
    return this.account.profile();
  }

  signup(username: string, password: string, name: string): Promise<SignupResult> {
    return this.account.signup(username, password, name);
  }

  login(password: string, agent?: string): Promise<LoginResult> {
    return this.account.login(password, agent);
  }

  createSession(agent?: string): { session: string; expires: number } {
    return this.account.createSession(agent);
  }

  /** The session's user, with one request taken from their HTTP budget when one is given. */
  checkSession(session: string, budget?: RequestBudget): SessionCheck {
    return this.account.checkSession(session, budget);
  }

  /**
   * A socket about to open in a conversation of mine: the session checked and one request taken
   * from its budget, as for any request, and, when the conversation sends one, its lease set in
   * the same call (the socket is the first of its session there). A refused session sets no
   * lease. One call where an upgrade used to cost two (the Worker's check, then the lease report).
   */
  admitSocket(session: string, budget: RequestBudget, lease: SocketLease | null): SessionCheck {
    const check = this.account.checkSession(session, budget);
    if (check.ok && lease) {
      this.presence.setLease(lease.conv, lease.until, lease.sessions.filter((s) => typeof s === "string"));
      // My state is worked out (and announced) just after this answer leaves: coming online is a
      // durable write, and the socket's 101 waits for this answer, not for that commit. Nothing
      // is lost by the wait: the lease is set, and a call that comes first works the state out
      // from the leases as they are then.
      this.ctx.waitUntil(new Promise<void>((resolve) => setTimeout(() => resolve(void this.#reevaluate()), 0)));
    }
    return check;
  }

  reserveConversation(id: string, max: number): boolean {
    return this.account.reserveConversation(id, max);
  }

  reserveRoom(id: string, perDay: number, maxConversations: number): RoomReservation {
    return this.account.reserveRoom(id, perDay, maxConversations);
  }

  /** Upload quota (v1.1, file-quota.ts): reserve an upload's declared bytes before it starts. */
  reserveFileBytes(upload: string, bytes: number, perDay: number): QuotaAnswer {
    return this.fileQuota.reserve(upload, bytes, perDay);
  }

  /** Ends an upload: its stored bytes count against the quota, or none (null) when nothing was stored. */
  settleFileBytes(upload: string, bytes: number | null): void {
    this.fileQuota.settle(upload, bytes);
  }

  /**
   * Revokes a session and closes every socket opened with it, here and in my conversations; its
   * push subscriptions go with it (nothing more reaches a device signed out).
   */
  async revokeSession(session: string): Promise<void> {
    this.account.revoke(session);
    this.pushSender.dropEndpoints(this.pushSubs.removeSession(session));
    for (const ws of this.ctx.getWebSockets(`s:${session}`)) this.closeSocket(ws, CLOSE.UNAUTHORIZED, "session revoked");
    await Promise.allSettled(this.index.ids().map((id) => this.#conversation(id).closeSession(session)));
    this.#reevaluate();
  }

  // ---- account settings (7.1) and blocking (7.2): storage in account.ts, notes in settings.ts --

  /** A new display name; every conversation of mine is told (now, and by the alarm until it heard). */
  async rename(name: string): Promise<User | null> {
    const convs = this.index.ids();
    const user = this.ctx.storage.transactionSync(() => {
      const u = this.account.setName(name);
      if (u) this.settings.note(convs, { kind: "name", change: { name, version: this.settings.nameVersion() } });
      return u;
    });
    if (user) await this.settings.deliver(convs);
    return user;
  }

  /** A new password if `current` is right; every other session is revoked (sockets 4401). */
  async changePassword(current: string, password: string, keep: string): Promise<boolean> {
    if (!(await this.account.changePassword(current, password))) return false;
    await Promise.all(this.account.liveSessions().filter((s) => s !== keep).map((s) => this.revokeSession(s)));
    return true;
  }

  sessions(current: string): SessionInfo[] {
    return this.account.sessions(current);
  }

  /** Revokes the session with this public id; false when there is no such live session. */
  async revokePublic(pid: string): Promise<boolean> {
    const session = this.account.sessionByPublicId(pid);
    if (!session) return false;
    await this.revokeSession(session);
    return true;
  }

  async revokeOthers(keep: string): Promise<void> {
    await Promise.all(this.account.liveSessions().filter((s) => s !== keep).map((s) => this.revokeSession(s)));
  }

  /**
   * Erases the account if `password` is right: sessions and hash go at once (account.ts), my
   * sockets close with 4401, every conversation is told (rooms: I leave; DMs: shown as deleted),
   * retried by the alarm until each heard; my list, contacts and blocks are forgotten.
   */
  async erase(password: string): Promise<boolean> {
    const live = await this.account.erase(password);
    if (!live) return false;
    for (const ws of this.ctx.getWebSockets(INBOX_TAG)) this.closeSocket(ws, CLOSE.UNAUTHORIZED, "the account was deleted");
    const convs = this.index.ids();
    this.ctx.storage.transactionSync(() => {
      this.settings.note(convs, { kind: "erase" });
      this.settings.forget();
      this.pushSubs.removeAll();
      this.pushSender.clear();
      for (const table of ["convs", "unread_mentions", "contacts", "conversation_holds"]) this.sql.exec(`DELETE FROM ${table}`);
    });
    await this.settings.deliver();
    return true;
  }

  // ---- push notifications (7.6): subscriptions, previews, muting ----------------------------

  /** The account with its own settings, for /api/me and `PATCH /api/me`. */
  me(): Me | null {
    return this.account.me();
  }

  setPreviews(on: boolean): Me | null {
    this.account.setPreviews(on);
    return this.account.me();
  }

  /**
   * Stores a browser's subscription for `session` (false when that session is not live). The
   * first one is announced to my conversations (they start telling me about new messages) before
   * this returns, so a message sent after the answer is pushed.
   */
  async subscribePush(session: string, sub: CheckedSubscription, origin: string): Promise<boolean> {
    if (!this.account.isLive(session)) return false;
    this.pushSender.dropEndpoints(this.pushSubs.add(session, sub, origin));
    await this.#reevaluate(false);
    return true;
  }

  async unsubscribePush(endpoint: string): Promise<void> {
    if (this.pushSubs.remove(endpoint)) this.pushSender.dropEndpoints([endpoint]);
    await this.#reevaluate(false);
  }

  /**
   * Mutes or unmutes a conversation of mine; every inbox of mine hears it (`muted`). Null when it
   * is not in my list.
   */
  setMuted(conv: string, muted: boolean): Summary | null {
    if (!this.index.has(conv)) return null;
    if (this.index.setMuted(conv, muted)) this.#toInbox([{ t: "muted", conv, muted }]);
    return this.index.summary(conv);
  }

  /** I block `username` (7.2); our DM, if there is one, refuses their sends from now on. */
  async setBlock(username: string, on: boolean): Promise<void> {
    const me = this.profile()?.username;
    if (!me) return;
    const conv = await dmId(me, username);
    this.ctx.storage.transactionSync(() => {
      if (on) this.settings.block(username);
      else this.settings.unblock(username);
      if (this.index.has(conv)) this.settings.note([conv], { kind: "block", peer: username, on });
    });
    await this.settings.deliver([conv]);
  }

  /** A DM with `peer` was just made: it learns whether I block them (I may have blocked first). */
  async dmMade(conv: string, peer: string): Promise<void> {
    if (!this.settings.blocks(peer)) return;
    this.settings.note([conv], { kind: "block", peer, on: true });
    await this.settings.deliver([conv]);
  }

  isBlocking(username: string): boolean {
    return this.settings.blocks(username);
  }

  blocked(): string[] {
    return this.settings.blocked();
  }

  // ---- the conversation index ----------------------------------------------------------------

  /**
   * Adds (or refreshes) a conversation, as its object tells me; a new one is announced on my inbox
   * sockets. Null when I left it after what the entry describes (a late call).
   */
  addConversation(entry: IndexEntry): Summary | null {
    const before = this.index.summary(entry.id);
    const summary = this.index.upsert(entry, Date.now());
    if (summary && !before) {
      this.#toInbox([{ t: "joined", conversation: summary }]);
      this.ctx.waitUntil(this.watch.learnPresence(entry.id));
    } else if (summary && before && changedLook(before, summary)) {
      // v1.1: a new title, topic, privacy or role (or a DM peer's new name) reaches open inboxes
      // as `joined` again: clients upsert by id.
      this.#toInbox([{ t: "joined", conversation: summary }]);
    }
    return summary;
  }

  /** I am not a member of `conv` as of `seq`: it leaves my list and every inbox of mine. */
  removeConversation(conv: string, seq: number): void {
    if (this.index.remove(conv, seq)) {
      this.pushSender.forget(conv);
      this.#toInbox([{ t: "left", conv }]);
    }
  }

  summary(id: string): Summary | null {
    return this.index.summary(id);
  }

  /**
   * Every conversation, most recent first. Kept current by notifications only while an inbox of
   * mine is open; otherwise each conversation is asked now (counting on demand).
   */
  async summaries(): Promise<Summary[]> {
    await this.watch.refreshed();
    if (!this.presence.announced().watching) await this.watch.refreshAll();
    return this.index.summaries();
  }

  /** New messages in one of my conversations (from its notifier, while I watch). */
  async activity(batch: ActivityBatch): Promise<void> {
    // Exact counts from a watch start are applied first; this batch then counts only what is newer.
    await this.watch.refreshed();
    const me = this.profile()?.username;
    if (!me) return;
    const frames = this.index.apply(me, batch);
    if (frames.length > 0) this.#toInbox(frames);
    // v1.1 (7.6): pushes to my devices that are not looking (push-sender.ts; never waited on).
    this.pushSender.consider(me, batch);
  }

  /** My read mark moved on some device: every inbox of mine clears the badge. */
  readMoved(conv: string, seq: number, unread: number, asOf: number, mentionSeqs: number[]): void {
    const result = this.index.readMoved(conv, seq, unread, asOf, mentionSeqs);
    this.pushSender.read(conv, seq);
    if (result === "applied") this.#toInbox([{ t: "read", conv, seq, unread, mentions: this.index.mentions(conv) }]);
    // The figure is older than what I counted since: ask the conversation for an exact one.
    else if (result === "stale") this.ctx.waitUntil(this.watch.refreshOne(conv));
  }

  // ---- presence ------------------------------------------------------------------------------

  /**
   * A conversation object says I have sockets there (with a lease until `until`, opened with
   * `sessions`) or no more. The answer carries my state as announced, which the conversation
   * applies by version: every renewal repairs an announcement it missed.
   */
  connection(conv: string, online: boolean, until: number, sessions?: string[]): LeaseAnswer {
    this.#connection(conv, online, until, sessions);
    // Sessions signed out whose sockets are still open there (the close never reached it): the
    // answer names them and the conversation closes them (and reports again), so every renewal
    // repairs a lost close.
    const ended = online && Array.isArray(sessions) ? sessions.filter((s) => typeof s === "string" && !this.account.isLive(s)) : [];
    return { ended, presence: this.presence.announced() };
  }

  #connection(conv: string, online: boolean, until: number, sessions?: string[]): void {
    if (online) this.presence.setLease(conv, until, Array.isArray(sessions) ? sessions.filter((s) => typeof s === "string") : undefined);
    else this.presence.dropLease(conv);
    this.#reevaluate();
    // Each renewal is a chance to reach a conversation my last announcement never did.
    if (online) this.watch.repair();
  }

  /** Sessions with a socket open now, here (inbox) or in a conversation (by lease): whom a push skips. */
  sessionsLooking(): LeasedSessions {
    return this.#looking();
  }

  #looking(): LeasedSessions {
    const leased = this.presence.leasedSessions(Date.now());
    const sessions = new Set(leased.sessions);
    for (const ws of this.#inboxSockets()) {
      const a = readAttachment(ws);
      if (a) sessions.add(a.session);
    }
    return { sessions, unknown: leased.unknown };
  }

  isOnline(): boolean {
    return this.#inboxSockets().length > 0 || this.presence.hasLease(Date.now());
  }

  /** My state now, as announced (a change not yet announced is announced first). */
  presenceState(): PresenceReport {
    this.#reevaluate();
    return this.presence.announced();
  }

  /** People I share a conversation with came online or went offline. */
  peerPresence(changes: PeerPresence[]): void {
    const now = Date.now();
    const me = this.profile()?.username;
    const frames: InboxServerFrame[] = changes
      .filter((c) => c.username !== me && this.presence.setContact(c, now))
      .map((c) => presenceFrame(c));
    if (frames.length > 0) this.#toInbox(frames);
  }

  /**
   * Announces a change of my state to each of my conversations (they tell their members), and sets
   * the alarm that expires leases and sweeps inbox sockets. Paced (a slice at a time, see
   * ANNOUNCE_SLICE) unless the caller waits until every conversation has heard.
   */
  #reevaluate(paced = true): Promise<void> {
    const now = Date.now();
    const report = this.presence.change({ online: this.isOnline(), watching: this.#inboxSockets().length > 0, push: this.pushSubs.any() });
    const announced = report ? this.watch.announce(report, paced) : Promise.resolve();
    this.ctx.waitUntil(announced);
    const leaseEnd = this.presence.sweep(now);
    const sweep = this.#inboxSockets().length > 0 ? now + this.limits.heartbeatMs : null;
    const next = [leaseEnd, sweep].filter((t): t is number => t !== null);
    if (next.length > 0) this.ctx.waitUntil(this.#clock.ensure(Math.min(...next)).catch(() => {}));
    // Offline with nothing owed: the alarm set for a lease's end (it only ever moves earlier, see
    // AlarmClock.ensure) would wake me for nothing once the lease was dropped. Cleared, it no
    // longer wakes each user object once after every session, which under `wrangler dev` landed
    // in the middle of other conversations' traffic (issue 17, BENCHMARKS.md).
    else if (!this.pushSender.waiting() && !this.settings.pending()) this.ctx.waitUntil(this.#clock.clear().catch(() => {}));
    return announced;
  }

  /** Expires leases and closes inbox sockets silent for two heartbeat intervals. */
  override async alarm(): Promise<void> {
    this.#clock.fired();
    this.sweep(Date.now());
    this.#reevaluate();
    // v1.1 (7.6): pushes waiting for their retry.
    this.pushSender.kick();
    // v1.1: notes my conversations are still owed (a name, an erasure, a block) are retried.
    if (this.settings.pending()) {
      await this.#clock.ensure(Date.now() + this.limits.heartbeatMs).catch(() => {});
      this.ctx.waitUntil(this.settings.deliver());
    }
  }

  // ---- the inbox socket (hooks of SocketObject) --------------------------------------------------

  #inboxSockets(): WebSocket[] {
    return this.openSockets(INBOX_TAG);
  }

  protected ownerTag(): string {
    return INBOX_TAG;
  }

  /**
   * Before an inbox socket exists: the first one (after none was open) rebuilds my list and my
   * contacts' presence from every conversation, whatever my stored state says; a second one waits
   * for that. Its first frame (`inbox`) is then current, and nothing reaches it before that frame.
   */
  protected async refusal(who: Identity): Promise<Refusal | null> {
    if (who.user !== this.profile()?.username) return { code: CLOSE.UNAUTHORIZED, reason: "not signed in" };
    // The session is checked here, where it is kept (the Worker checked only the token's
    // signature): no call between objects for it.
    const refused = sessionRefusal(this.account.checkSession(who.session, upgradeBudget(this.limits)));
    if (refused) return refused;
    if (this.#inboxSockets().length === 0) await this.watch.start();
    else await this.watch.refreshed();
    return null;
  }

  protected opened(ws: WebSocket, a: Attachment): void {
    const frame: InboxServerFrame = { t: "inbox", conversations: this.index.summaries(), online: this.presence.onlineContacts() };
    this.send(ws, a, frame);
    this.#reevaluate();
    this.ctx.waitUntil(this.watch.refreshPeers());
  }

  protected frame(ws: WebSocket, a: Attachment): void {
    this.touch(ws, a, Date.now());
    // The inbox is one-way: clients only ping it.
    this.send(ws, a, { t: "error", code: "unknown_type", message: "the inbox socket takes no frames" });
  }

  protected gone(): void {
    this.#reevaluate();
  }

  #toInbox(frames: InboxServerFrame[]): void {
    broadcast(this.ctx, this.codecs, frames);
  }

  #conversation(id: string) {
    return this.env.CONVERSATIONS.get(this.env.CONVERSATIONS.idFromName(id));
  }
}
