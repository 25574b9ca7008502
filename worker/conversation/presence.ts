/**
 * Presence in one conversation. Two sources, each authoritative for its own part:
 *
 * - the members' user objects announce each member's state across all their devices (online,
 *   watching, and a version that only grows: stale announcements are ignored, see PresenceTable);
 * - this object knows which members have a socket open here right now.
 *
 * A member is shown online here while either says so: a socket open here is online whatever the
 * last announcement said. Sockets report to the member's object (a lease that the heartbeat
 * renews, so a crashed object cannot keep anyone online), which decides and announces back.
 * Changes of a member's announced state go on to the inboxes watching here, gathered for a
 * moment and sent as one call per watcher, retried until they land.
 */
import type { ServerFrame } from "../../protocol";
import type { LeaseAnswer, PeerPresence, PresenceReport, SocketLease } from "../user";
import type { PresenceTable } from "./presence-table";
import type { ConversationStore } from "./store";
import { fnv1a } from "../fnv1a";

/** A presence lease lasts this many heartbeat intervals, less the member's share (leaseMs). */
export const PRESENCE_LEASE_INTERVALS = 3;
/**
 * The alarm renews every lease each interval, spread evenly over this share of it (members in the
 * same bucket of this many ms go together): a lease is then renewed at most an interval and a half
 * after the last time, well inside the shortest lease (leaseMs).
 */
export const LEASE_RENEW_SPREAD = 0.5;
export const LEASE_RENEW_BUCKET_MS = 10;
/**
 * A member's lease: three intervals less their own share of up to half of one, the same for one
 * member every time, spread over the members. Leases set together (a hundred people
 * connecting at once, or a deploy bringing every socket back) otherwise end together, and the
 * alarms the user objects set for their ends fired together 90 s later: under `wrangler dev` 60
 * user objects woke in 0.3 s and held up a steady room's sends by up to 74 ms (issue 17,
 * BENCHMARKS.md, sixteenth session). Taken off rather than added, so a conversation that crashed
 * without a goodbye is noticed no later than before; renewals come at most an interval and a half
 * apart (renewLeases), well inside the shortest lease.
 */
export function leaseMs(username: string, heartbeatMs: number): number {
  return PRESENCE_LEASE_INTERVALS * heartbeatMs - (fnv1a(username) % Math.max(1, Math.floor(heartbeatMs / 2)));
}
/** Conversations up to this size tell every member's inbox about presence changes. */
export const PRESENCE_FANOUT_MAX_MEMBERS = 100;
/** How long presence changes are gathered before they go to members' inboxes. */
const PRESENCE_FANOUT_DELAY_MS = 1000;
/**
 * A socket admitted without a call (ConversationObject.admission) reports its lease this long
 * after it opened, times one to two at random, unless its member's object announces them online
 * first (see deferReport).
 */
export const DEFERRED_REPORT_MS = 1000;
/** A fan-out call that fails is tried again this much later, doubling, this many times. */
const FANOUT_RETRY_MS = 500;
const FANOUT_TRIES = 5;

export interface PresenceHooks {
  env: Env;
  ctx: DurableObjectState;
  store: ConversationStore;
  table: PresenceTable;
  convId: () => string | null;
  heartbeatMs: () => number;
  /** Whether the member has a socket open here. */
  hasSocket: (username: string) => boolean;
  /** The sessions of the member's sockets open here (v1.1: a push skips those devices). */
  sessionsOf: (username: string) => string[];
  /** Everyone with a socket open here (one pass over the sockets). */
  connected: () => ReadonlySet<string>;
  /** Closes the sockets of a session signed out (its object says so in a lease's answer). */
  endSession: (session: string) => void;
  /** The member's object said these sessions of theirs were live at `at` (a lease's answer). */
  sessionsLive: (username: string, sessions: readonly string[], at: number) => void;
  /** To every socket here but `exceptUser`'s. */
  broadcast: (frames: ServerFrame[], exceptUser: string) => void;
}

export class ConversationPresence {
  /** Announced changes not yet sent to watching inboxes (a second's worth at most). */
  readonly #out = new Map<string, PeerPresence>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Members whose report waits (deferReport). */
  readonly #deferred = new Set<string>();

  constructor(private readonly h: PresenceHooks) {}

  #user(username: string) {
    return this.h.env.USERS.get(this.h.env.USERS.idFromName(username));
  }

  /** Shown online here: announced online, or a socket open here. */
  isOnline(username: string): boolean {
    return this.announcedOnline(username) || this.h.hasSocket(username);
  }

  /**
   * Everyone shown online here, for a welcome's member list: one pass over the sockets and the
   * presence table, not a socket lookup per member (a room of 1 000 on every connect).
   */
  onlineSet(): ReadonlySet<string> {
    const online = new Set(this.h.connected());
    for (const u of this.h.table.members((p) => p.online)) online.add(u);
    return online;
  }

  /** Every member's announced state with its version, for a watcher rebuilding its contacts. */
  announcedStates(): PeerPresence[] {
    if (this.h.store.memberCount() > PRESENCE_FANOUT_MAX_MEMBERS) return [];
    return this.h.store.activeMembers().flatMap((username) => {
      const p = this.h.table.get(username);
      return p ? [{ username, online: p.online, version: p.version, ...(p.lastSeen ? { lastSeen: p.lastSeen } : {}) }] : [];
    });
  }

  /** Whether the member's own object last announced them online (a socket here aside). */
  announcedOnline(username: string): boolean {
    return this.h.table.get(username)?.online ?? false;
  }

  /** When a member shown offline here was last online, as announced (undefined: unknown). */
  lastSeen(username: string): number | undefined {
    return this.h.table.get(username)?.lastSeen;
  }

  /**
   * A member's first socket here opened (call after it is counted by hasSocket). `reported`: its
   * lease already went to their object with the session check, or waits for the next renewal
   * (see ConversationObject.admission).
   */
  firstSocketOpened(username: string, reported: boolean): void {
    if (!this.announcedOnline(username)) this.h.broadcast([{ t: "presence", username, online: true }], username);
    if (!reported) this.report(username, true);
  }

  /**
   * A socket of the member opened without a call to their object (a session checked a moment
   * ago). If they are announced online, the lease waits for the next renewal: nobody needs to
   * learn anything sooner. If not, it goes a moment later, unless an announcement that they are
   * online comes first. In a reconnect storm each of a member's conversations admits a socket
   * of theirs at about the same time, and every one of them would report their coming online:
   * the random wait lets the first report's announcement reach the others before they report
   * (issue 17). Until then they are shown online here by their socket, and elsewhere they are
   * shown online up to two DEFERRED_REPORT_MS later than a checked socket would.
   *
   * A member with push subscriptions is reported after the wait even when online: the lease names
   * the sessions a push skips (7.6), and this one may be named nowhere else.
   */
  deferReport(username: string): void {
    if (this.#canWaitForRenewal(username) || this.#deferred.has(username)) return;
    this.#deferred.add(username);
    const due = () => {
      this.#deferred.delete(username);
      if (this.h.hasSocket(username) && !this.#canWaitForRenewal(username)) this.report(username, true);
    };
    this.h.ctx.waitUntil(new Promise<void>((resolve) => setTimeout(() => resolve(due()), DEFERRED_REPORT_MS * (1 + Math.random()))));
  }

  /** Announced online, and without push subscriptions (see deferReport). */
  #canWaitForRenewal(username: string): boolean {
    return this.announcedOnline(username) && this.h.table.get(username)?.push !== true;
  }

  /** A member's last socket here ended (call once it is no longer counted by hasSocket). */
  lastSocketGone(username: string): void {
    // Not online elsewhere as far as announced: they were last seen here, just now.
    if (!this.announcedOnline(username)) this.h.broadcast([{ t: "presence", username, online: false, lastSeen: Date.now() }], username);
    this.report(username, false);
  }

  /** A member's object announces their state; a stale announcement changes nothing. */
  announce(username: string, report: PresenceReport): void {
    if (!this.h.store.isMember(username)) return;
    const wasOnline = this.isOnline(username);
    const before = this.h.table.apply(username, report);
    if (before !== null) {
      // Their object counts them offline while a socket of theirs is open here: a lease that
      // waits for its renewal (ConversationObject.admission), or a report that crossed another
      // (a socket closing as the next one opened). Told now, so it does not last until the renewal.
      if (!report.online && this.h.hasSocket(username)) this.report(username, true);
      if (this.isOnline(username) !== wasOnline) {
        this.h.broadcast([wasOnline && report.lastSeen ? { t: "presence", username, online: false, lastSeen: report.lastSeen } : { t: "presence", username, online: !wasOnline }], username);
      }
      if ((before?.online ?? false) !== report.online && this.h.store.memberCount() <= PRESENCE_FANOUT_MAX_MEMBERS) {
        this.#out.set(username, { username, online: report.online, version: report.version, ...(report.lastSeen ? { lastSeen: report.lastSeen } : {}) });
        this.#scheduleFanout();
      }
    }
  }

  /**
   * Asks new members' objects for their state: they announce only changes, so someone already
   * online would otherwise look offline here until their next change.
   */
  async seed(usernames: string[]): Promise<void> {
    const states = await Promise.allSettled(usernames.map((u) => this.#user(u).presenceState()));
    states.forEach((state, i) => {
      if (state.status === "fulfilled") this.announce(usernames[i]!, state.value);
    });
  }

  /**
   * Tells the member's object that they have sockets here (a lease until `until`, with the
   * sessions they were opened with) or none any more. The answer names the sessions among them
   * that were signed out, whose sockets are closed, and carries the member's state as announced,
   * applied like an announcement (by version): a renewal thus repairs an announcement this
   * conversation missed, and its watchers are told. Called when any of their sockets here opens
   * or ends, and by each renewal.
   */
  report(username: string, online: boolean): void {
    const lease = this.leaseOf(username);
    if (!lease) return;
    const sent = Date.now();
    const call = this.#user(username).connection(lease.conv, online, lease.until, online ? lease.sessions : []);
    const settle = (answer: LeaseAnswer | string[]) => {
      // An object of the version before this one (during a deploy) answers the sessions alone.
      const { ended, presence } = Array.isArray(answer) ? { ended: answer, presence: null } : answer;
      for (const session of ended) this.h.endSession(session);
      if (online) this.h.sessionsLive(username, lease.sessions.filter((s) => !ended.includes(s)), sent);
      if (presence) this.#caughtUp(username, presence);
    };
    this.h.ctx.waitUntil(call.then(settle).catch(() => {}));
  }

  /**
   * Applies the state a lease's answer carried. If it shows that the member watches and this
   * conversation had missed it (the announcement that their inbox opened never landed), they
   * also missed every change sent to watchers meanwhile: they get this conversation's view, as
   * that announcement's answer would have given them (applied by version, so nothing goes back).
   */
  #caughtUp(username: string, presence: PresenceReport): void {
    const wasWatching = this.h.table.get(username)?.watching ?? false;
    this.announce(username, presence);
    if (!wasWatching && this.h.table.get(username)?.watching === true) {
      const view = this.announcedStates();
      if (view.length > 0) this.h.ctx.waitUntil(this.#tell(username, view));
    }
  }

  /**
   * The lease the member's sockets here hold from now, with `adding`, the session of a socket
   * about to be accepted; null once the conversation is deleted (nothing to lease).
   */
  leaseOf(username: string, adding?: string): SocketLease | null {
    const conv = this.h.convId();
    if (!conv) return null;
    const sessions = this.h.sessionsOf(username);
    if (adding !== undefined && !sessions.includes(adding)) sessions.push(adding);
    return { conv, until: Date.now() + leaseMs(username, this.h.heartbeatMs()), sessions };
  }

  /**
   * Renews the leases of everyone connected here, spread over half an interval in the order
   * given (the same each time, so each member's renewals stay an interval apart, and none comes
   * more than an interval and a half after the last, inside the shortest lease). A renewal
   * wakes the member's object and writes its lease there; a hundred of them in half a second
   * (ten every 50 ms, as before) held up the sends of a steady room that arrived meanwhile by 30
   * to 60 ms under `wrangler dev`, where every object runs on one thread (issue 17,
   * BENCHMARKS.md, sixteenth session). One at a time, a send waits for one at most.
   */
  renewLeases(usernames: string[]): void {
    const spreadMs = LEASE_RENEW_SPREAD * this.h.heartbeatMs();
    const buckets = new Map<number, string[]>();
    usernames.forEach((u, i) => {
      const at = Math.floor((i * spreadMs) / usernames.length / LEASE_RENEW_BUCKET_MS) * LEASE_RENEW_BUCKET_MS;
      const bucket = buckets.get(at);
      if (bucket) bucket.push(u);
      else buckets.set(at, [u]);
    });
    for (const [at, bucket] of buckets) {
      // A member whose last socket closed meanwhile was reported offline then: not renewed.
      const renew = () => {
        for (const u of bucket) if (at === 0 || this.h.hasSocket(u)) this.report(u, true);
      };
      if (at === 0) renew();
      else this.h.ctx.waitUntil(new Promise<void>((resolve) => setTimeout(() => resolve(renew()), at)));
    }
  }

  /**
   * Changes are gathered for a moment and sent as one call per watcher: when a team comes online
   * together, each watcher's object gets one call, not one per colleague. A DM goes at once.
   */
  #scheduleFanout(): void {
    if (this.#timer !== null) return;
    const delay = this.h.store.memberCount() <= 2 ? 0 : PRESENCE_FANOUT_DELAY_MS;
    this.h.ctx.waitUntil(
      new Promise<void>((resolve) => {
        this.#timer = setTimeout(() => {
          this.#timer = null;
          const changes = [...this.#out.values()];
          this.#out.clear();
          // A room deleted meanwhile has no tables left to ask, and tells nobody.
          if (this.h.convId() === null) return resolve();
          // Only members with an inbox open: the others learn the state when they next open one.
          const calls = this.h.table.watchers().map((u) => this.#tell(u, changes));
          void Promise.allSettled(calls).then(() => resolve());
        }, delay);
      }),
    );
  }

  /** One watcher's call, tried again with backoff: versions make a repeat harmless. */
  async #tell(watcher: string, changes: PeerPresence[]): Promise<void> {
    for (let attempt = 0; attempt < FANOUT_TRIES; attempt++) {
      try {
        await this.#user(watcher).peerPresence(changes);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, FANOUT_RETRY_MS * 2 ** attempt));
      }
    }
  }
}
