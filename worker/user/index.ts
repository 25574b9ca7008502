/**
 * One Durable Object per user: the account (the password hash never leaves it), the sessions,
 * the index of the user's conversations with unread counts, presence, and the inbox socket that
 * keeps a side bar current without opening every conversation.
 */
import { DurableObject } from "cloudflare:workers";
import { CLOSE, PING, PONG, type InboxServerFrame, type Limits, type Summary, type User } from "../../protocol";
import { Account, type Budget, type LoginResult, type RoomReservation, type SessionCheck, type SignupResult } from "./account";
import { limitsFromEnv } from "../config";
import { acceptForwarded, broadcast, Codecs, notForwarded, readAttachment, tryClose, trySend, upgradeResponse, writeAttachment } from "../sockets";
import { ConversationIndex } from "./conversations";
import { Presence, type PresenceState } from "./presence";
import { USER_SCHEMA } from "./schema";
import type { ActivityBatch, IndexEntry, WatchSnapshot } from "./types";

export type { ActivityBatch, ActivityItem, IndexEntry, WatchSnapshot } from "./types";

export interface PresenceChange {
  username: string;
  online: boolean;
}

export type { LoginResult, SignupResult } from "./account";
export { LOGIN_FAILURES_ALLOWED, LOGIN_WINDOW_MS } from "./account";
/** How many DM peers an inbox connect asks for their presence, to heal missed announcements. */
const PRESENCE_REFRESH_MAX = 100;
const INBOX_TAG = "inbox";

export class UserObject extends DurableObject<Env> {
  limits: Limits;
  readonly sql: SqlStorage;
  readonly index: ConversationIndex;
  readonly presence: Presence;
  readonly account: Account;
  #codecs: Codecs;
  /** The alarm's time as last set; undefined until read from storage. */
  #alarmAt: number | null | undefined;
  /** Settles once the snapshots asked for when I started watching are applied. */
  #refreshing: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.limits = limitsFromEnv(env);
    this.#codecs = new Codecs(this.limits);
    this.sql = ctx.storage.sql;
    for (const statement of USER_SCHEMA) this.sql.exec(statement);
    this.index = new ConversationIndex(this.sql);
    this.account = new Account(ctx.storage);
    this.presence = new Presence(this.sql);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  // ---- account and sessions (the storage logic is in account.ts) ---------------------------

  profile(): User | null {
    return this.account.profile();
  }

  signup(username: string, password: string, name: string): Promise<SignupResult> {
    return this.account.signup(username, password, name);
  }

  login(password: string): Promise<LoginResult> {
    return this.account.login(password);
  }

  createSession(): { session: string; expires: number } {
    return this.account.createSession();
  }

  /** The session's user, with one request taken from their HTTP budget when one is given. */
  checkSession(session: string, budget?: Budget): SessionCheck {
    return this.account.checkSession(session, budget);
  }

  reserveConversation(id: string, max: number): boolean {
    return this.account.reserveConversation(id, max);
  }

  reserveRoom(id: string, perDay: number, maxConversations: number): RoomReservation {
    return this.account.reserveRoom(id, perDay, maxConversations);
  }

  /** Revokes a session and closes every socket opened with it, here and in my conversations. */
  async revokeSession(session: string): Promise<void> {
    this.account.revoke(session);
    for (const ws of this.ctx.getWebSockets(`s:${session}`)) tryClose(ws, CLOSE.UNAUTHORIZED, "session revoked");
    await Promise.allSettled(this.index.ids().map((id) => this.#conversation(id).closeSession(session)));
    void this.#reevaluate(Date.now());
  }

  // ---- the conversation index ----------------------------------------------------------------

  /** Adds (or refreshes) a conversation; a new one is announced on my inbox sockets. */
  addConversation(entry: IndexEntry): Summary {
    const isNew = !this.index.has(entry.id);
    const summary = this.index.upsert(entry, Date.now());
    if (isNew) {
      this.#toInbox([{ t: "joined", conversation: summary }]);
      this.ctx.waitUntil(this.#learnPresence(entry.id));
    }
    return summary;
  }

  removeConversation(conv: string): void {
    this.index.remove(conv);
  }

  summary(id: string): Summary | null {
    return this.index.summary(id);
  }

  /**
   * Every conversation, most recent first. Kept current by notifications only while an inbox of
   * mine is open; otherwise each conversation is asked now (counting on demand).
   */
  async summaries(): Promise<Summary[]> {
    await this.#refreshing;
    const me = this.profile()?.username;
    if (me && !this.presence.announced().watching) {
      const ids = this.index.ids();
      const answers = await Promise.allSettled(ids.map((id) => this.#conversation(id).summaryFor(me)));
      for (const a of answers) if (a.status === "fulfilled" && a.value) this.index.refresh(a.value);
    }
    return this.index.summaries();
  }

  /** New messages in one of my conversations (from its notifier, while I watch). */
  async activity(batch: ActivityBatch): Promise<void> {
    // Exact counts from a watch start are applied first; this batch then counts only what is newer.
    await this.#refreshing;
    const me = this.profile()?.username;
    if (!me) return;
    const frames = this.index.apply(me, batch);
    if (frames.length > 0) this.#toInbox(frames);
  }

  /** My read mark moved on some device: every inbox of mine clears the badge. */
  readMoved(conv: string, seq: number, unread: number, asOf: number): void {
    if (this.index.readMoved(conv, seq, unread, asOf)) this.#toInbox([{ t: "read", conv, seq, unread }]);
  }

  // ---- presence ------------------------------------------------------------------------------

  /** A conversation object says I have sockets there (with a lease until `until`) or no more. */
  connection(conv: string, online: boolean, until: number): void {
    if (online) this.presence.setLease(conv, until);
    else this.presence.dropLease(conv);
    void this.#reevaluate(Date.now());
  }

  isOnline(): boolean {
    const now = Date.now();
    return this.#inboxSockets().length > 0 || this.presence.hasLease(now);
  }

  /** For a conversation I was just added to: am I online, and is an inbox of mine open. */
  presenceState(): PresenceState {
    return { online: this.isOnline(), watching: this.#inboxSockets().length > 0 };
  }

  /** People I share a conversation with came online or went offline. */
  peerPresence(changes: PresenceChange[]): void {
    const now = Date.now();
    const me = this.profile()?.username;
    const frames: InboxServerFrame[] = changes
      .filter((c) => c.username !== me && this.presence.setContact(c.username, c.online, now))
      .map((c) => ({ t: "presence", username: c.username, online: c.online }));
    if (frames.length > 0) this.#toInbox(frames);
  }

  /**
   * Announces a change of my own state to each of my conversations (they tell their members).
   * `opening`: an inbox socket is about to open, so count me online and watching already. When I
   * start watching, the conversations answer with who is online there, and what I know of my
   * contacts (not kept current while no inbox was open) is rebuilt from that; the promise settles
   * once it is.
   */
  #reevaluate(now: number, opening = false): Promise<void> {
    const me = this.profile()?.username;
    if (!me) return Promise.resolve();
    const state: PresenceState = opening ? { online: true, watching: true } : this.presenceState();
    const changed = this.presence.change(state);
    let done = Promise.resolve();
    if (changed) {
      const announce = { ...state, onlineChanged: changed.online };
      const calls = this.index.ids().map((id) => this.#conversation(id).memberPresence(me, announce));
      done = Promise.allSettled(calls).then((answers) => {
        if (!(state.watching && changed.watching)) return;
        const snapshots = answers.flatMap((a) => (a.status === "fulfilled" && a.value ? [a.value] : []));
        this.#startWatching(me, snapshots);
      });
      this.ctx.waitUntil(done);
      if (state.watching && changed.watching) this.#refreshing = done;
    }
    this.ctx.waitUntil(this.#scheduleAlarm(now));
    return done;
  }

  /**
   * While no inbox was open my conversations told me nothing: rebuild the index and my contacts'
   * presence from what each one answered when I started watching.
   */
  #startWatching(me: string, snapshots: WatchSnapshot[]): void {
    const online = new Set<string>();
    for (const s of snapshots) {
      for (const u of s.online) online.add(u);
      this.index.refresh(s.entry);
    }
    const changes = this.presence.replaceContacts(online, me, Date.now());
    if (changes.length > 0) this.#toInbox(changes.map((c) => ({ t: "presence", username: c.username, online: c.online })));
  }

  async #scheduleAlarm(now: number): Promise<void> {
    const leaseEnd = this.presence.sweep(now);
    const sweep = this.#inboxSockets().length > 0 ? now + this.limits.heartbeatMs : null;
    const next = [leaseEnd, sweep].filter((t): t is number => t !== null);
    if (next.length === 0) return;
    const at = Math.min(...next);
    // The alarm time is remembered (it is rebuilt from storage after a wake): this runs on every
    // connection change, and most of them need no new alarm.
    if (this.#alarmAt === undefined) this.#alarmAt = await this.ctx.storage.getAlarm();
    if (this.#alarmAt === null || this.#alarmAt > at) {
      this.#alarmAt = at;
      await this.ctx.storage.setAlarm(at);
    }
  }

  /** Expires leases and closes inbox sockets silent for two heartbeat intervals. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#alarmAt = null;
    for (const ws of this.#inboxSockets()) {
      const a = readAttachment(ws);
      const pong = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
      if (!a || now - Math.max(a.seen, a.opened, pong) > 2 * this.limits.heartbeatMs) tryClose(ws, CLOSE.GOING_AWAY, "no heartbeat");
    }
    void this.#reevaluate(now);
  }

  // ---- the inbox socket ----------------------------------------------------------------------

  #inboxSockets(): WebSocket[] {
    return this.ctx.getWebSockets(INBOX_TAG).filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  override async fetch(request: Request): Promise<Response> {
    // The first inbox: learn who is online before the socket exists, so that its first frame
    // (`inbox`) is current and nothing reaches it before that frame.
    if (this.#inboxSockets().length === 0) await this.#reevaluate(Date.now(), true);
    const accepted = acceptForwarded(this.ctx, request, () => INBOX_TAG);
    if (!accepted) return notForwarded();
    const { client, server, attachment } = accepted;
    const now = attachment.opened;
    if (this.ctx.getWebSockets(INBOX_TAG).length > this.limits.socketsPerUser) {
      tryClose(server, CLOSE.TOO_MANY_SOCKETS, "too many sockets for this user");
      return upgradeResponse(client, request);
    }
    const frame: InboxServerFrame = { t: "inbox", conversations: this.index.summaries(), online: this.presence.onlineContacts() };
    trySend(server, this.#codecs.for(attachment.proto).encode(frame));
    void this.#reevaluate(now);
    this.ctx.waitUntil(this.#refreshPeers());
    return upgradeResponse(client, request);
  }

  /** Who is online among the members of a conversation I just joined (announcements carry changes only). */
  async #learnPresence(conv: string): Promise<void> {
    const me = this.profile()?.username;
    try {
      for (const username of await this.#conversation(conv).onlineMembers()) {
        if (username !== me) this.peerPresence([{ username, online: true }]);
      }
    } catch {
      // The next announcement or inbox connect corrects it.
    }
  }

  /** Asks my DM peers for their state: heals announcements lost while I was away. */
  async #refreshPeers(): Promise<void> {
    const peers = this.index.peers().slice(0, PRESENCE_REFRESH_MAX);
    const states = await Promise.allSettled(peers.map((p) => this.env.USERS.get(this.env.USERS.idFromName(p)).isOnline()));
    this.peerPresence(
      states.flatMap((s, i) => (s.status === "fulfilled" ? [{ username: peers[i]!, online: s.value }] : [])),
    );
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const a = readAttachment(ws);
    if (!a) return tryClose(ws, CLOSE.INTERNAL, "lost socket state");
    if (data === PING) return void trySend(ws, PONG);
    a.seen = Date.now();
    writeAttachment(ws, a);
    // The inbox is one-way: clients only ping it.
    trySend(ws, this.#codecs.for(a.proto).encode({ t: "error", code: "unknown_type", message: "the inbox socket takes no frames" }));
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    tryClose(ws, code === 1005 || code === 1006 || code === 1015 ? CLOSE.NORMAL : code, reason);
    void this.#reevaluate(Date.now());
  }

  override async webSocketError(): Promise<void> {
    void this.#reevaluate(Date.now());
  }

  #toInbox(frames: InboxServerFrame[]): void {
    broadcast(this.ctx, this.#codecs, frames);
  }

  #conversation(id: string) {
    return this.env.CONVERSATIONS.get(this.env.CONVERSATIONS.idFromName(id));
  }
}
