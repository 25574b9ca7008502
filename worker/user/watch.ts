/**
 * What a user's object keeps in step with their conversations: the announcements of my own
 * presence, and, while an inbox of mine is open ("watching"), my list's counts and my contacts'
 * presence. While no inbox is open my conversations tell me nothing, so when the first one opens
 * every conversation is asked for its exact view, whatever my stored state says: that is the
 * repair path for anything missed meanwhile (a lost notification, a failed call, a reset).
 *
 * Every figure here is applied by version: counts by the seq they are "as of", presence by the
 * version its user object stamped. Answers can then arrive late, twice, or out of order.
 */
import type { InboxServerFrame } from "../../protocol";
import type { ConversationIndex } from "./conversations";
import type { AnnounceAnswer, PeerPresence, PresenceReport } from "./types";
import { type Presence, presenceFrame } from "./presence";

/** How many DM peers an inbox connect asks for their presence, to heal missed announcements. */
const PRESENCE_REFRESH_MAX = 100;
/** An announcement a conversation did not take is tried again this much later, doubling, this many times. */
export const ANNOUNCE_RETRY_MS = 500;
export const ANNOUNCE_TRIES = 5;
/**
 * An announcement nobody waits for (a socket opened or closed in a conversation, a lease expired)
 * goes to this many conversations at a time, the most recently active first, with this pause
 * between slices. Told all at once, a member of a hundred rooms coming back online wakes a
 * hundred objects together, and the conversation they are opening, the one thing they are
 * looking at, waits behind them: on the one thread all objects share under `wrangler dev` that
 * was most of the catch-up's first upgrade (BENCHMARKS.md, issue 17), and in production the
 * user object would take a hundred answers in one burst. The last slice of a hundred goes out
 * about a fifth of a second later, plus the calls' own time. An inbox opening still asks every
 * conversation at once, since it waits for their answers (its list).
 */
export const ANNOUNCE_SLICE = 10;
export const ANNOUNCE_GAP_MS = 20;

export interface WatchHooks {
  env: Env;
  ctx: DurableObjectState;
  index: ConversationIndex;
  presence: Presence;
  me: () => string | null;
  /** Whether I have push subscriptions (part of what I announce). */
  pushing: () => boolean;
  toInbox: (frames: InboxServerFrame[]) => void;
}

/** A renewal tries the conversations an announcement never reached at most this often (see `repair`). */
export const REPAIR_GAP_MS = 10_000;

export class Watch {
  /** Settles once the views asked for when I started watching are applied. */
  #refreshing: Promise<void> = Promise.resolve();
  /**
   * The conversations that have not taken my last announcement yet (its version): the round's
   * retries work through them, and once they gave up a renewal tries again (`repair`).
   */
  #untold: { version: number; convs: Set<string>; gaveUp: boolean } | null = null;
  /** A repair is out: the next one waits for it. */
  #repairing = false;
  #lastRepair = 0;
  /** The retries' first pause and their number; tests shorten them. */
  retryMs = ANNOUNCE_RETRY_MS;
  tries = ANNOUNCE_TRIES;

  constructor(private readonly h: WatchHooks) {}

  #conversation(id: string) {
    return this.h.env.CONVERSATIONS.get(this.h.env.CONVERSATIONS.idFromName(id));
  }

  refreshed(): Promise<void> {
    return this.#refreshing;
  }

  /**
   * An inbox is about to open after none was: count me online and watching, announce it to every
   * conversation (changed or not), and rebuild my list and contacts from their answers.
   */
  start(): Promise<void> {
    const report = this.h.presence.change({ online: true, watching: true, push: this.h.pushing() }) ?? this.h.presence.announced();
    this.#refreshing = this.announce({ ...report, online: true, watching: true });
    return this.#refreshing;
  }

  /**
   * Tells every conversation of mine my state; applies what they answer. `paced`: a slice at a
   * time (ANNOUNCE_SLICE), for announcements that nobody waits on; a newer announcement, which
   * goes to every conversation, ends a paced one early.
   */
  async announce(report: PresenceReport, paced = false): Promise<void> {
    const me = this.h.me();
    if (!me) return;
    const ids = this.h.index.ids();
    const step = paced ? ANNOUNCE_SLICE : Math.max(ids.length, 1);
    if (this.#untold === null || this.#untold.version <= report.version) this.#untold = { version: report.version, convs: new Set(ids), gaveUp: false };
    const states: PeerPresence[] = [];
    const failed: string[] = [];
    for (let i = 0; i < ids.length; i += step) {
      if (i > 0) {
        await new Promise((r) => setTimeout(r, ANNOUNCE_GAP_MS));
        if (this.h.presence.announced().version !== report.version) break;
      }
      failed.push(...(await this.#tell(ids.slice(i, i + step), me, report, states)));
    }
    // Only an announcement that I watch asked for views; a later one may have superseded it.
    if (report.watching && this.h.presence.announced().version === report.version) {
      // A contact whom only a conversation that did not answer mentions is not known to be
      // offline: the views that came are applied (by version), and the contacts nobody mentions
      // go offline only once every conversation has answered (#announceAgain).
      if (failed.length === 0) this.#rebuild(states, me);
      else this.#contacts(states);
    }
    // A conversation that did not take it (reset meanwhile, overloaded) would otherwise show my
    // old state to its members until my next change: it is told again, off this path.
    if (failed.length > 0) this.h.ctx.waitUntil(this.#announceAgain(me, report, failed, states));
    else this.#checkTold(report.version);
  }

  /**
   * Called by a fresh instance: if my stored state may not have reached every conversation (the
   * instance that announced it was reset before its round or its retries were done: presence.ts
   * `untold`), it is announced again to all of them. Looked at once the event that woke me has
   * run, so a wake costs no read before it, and a change that event made (announced to all
   * anyway) is not announced twice.
   */
  resume(): void {
    this.h.ctx.waitUntil(
      new Promise<void>((resolve) => setTimeout(resolve, 0))
        .then(() => {
          if (this.#untold !== null || !this.h.presence.untold()) return;
          return this.announce(this.h.presence.announced(), true);
        })
        // The waking event found no account and erased the object's tables: nothing to announce.
        .catch(() => {}),
    );
  }

  /**
   * Called on each lease renewal: conversations my last announcement never reached once its
   * retries gave up are tried again, at most once per REPAIR_GAP_MS. Until they take it, their
   * members see my old state.
   */
  repair(now = Date.now()): void {
    const untold = this.#untold;
    if (!untold?.gaveUp || untold.convs.size === 0 || this.#repairing || now - this.#lastRepair < REPAIR_GAP_MS) return;
    const me = this.h.me();
    const report = this.h.presence.announced();
    if (!me || report.version !== untold.version) return;
    this.#lastRepair = now;
    this.#repairing = true;
    const states: PeerPresence[] = [];
    this.h.ctx.waitUntil(
      this.#tell([...untold.convs], me, report, states)
        .then(() => {
          if (report.watching) this.#contacts(states);
          this.#checkTold(report.version);
        })
        .finally(() => {
          this.#repairing = false;
        }),
    );
  }

  /** Once no conversation is left untold for `version`, storage hears of it (presence.ts `told`). */
  #checkTold(version: number): void {
    if (this.#untold?.version === version && this.#untold.convs.size === 0 && this.h.presence.announced().version === version) this.h.presence.told(version);
  }

  /**
   * Tells the conversations that failed `report` again, with backoff, until each took it or a
   * newer announcement (which goes to every conversation) superseded it. Versions make a repeat
   * harmless. `states`: the views the others answered; once every conversation has answered a
   * watching announcement, my contacts are rebuilt from all of them.
   */
  async #announceAgain(me: string, report: PresenceReport, convs: string[], states: PeerPresence[]): Promise<void> {
    let left = convs;
    for (let attempt = 0; attempt < this.tries && left.length > 0; attempt++) {
      await new Promise((r) => setTimeout(r, this.retryMs * 2 ** attempt));
      if (this.h.presence.announced().version !== report.version) return;
      const more: PeerPresence[] = [];
      left = await this.#tell(left, me, report, more);
      states.push(...more);
      if (left.length === 0 && report.watching && this.h.presence.announced().version === report.version) this.#rebuild(states, me);
      else this.#contacts(more);
    }
    // Those left are tried again by renewals (repair), for as long as this instance lives.
    if (this.#untold?.version === report.version && left.length > 0) this.#untold.gaveUp = true;
    this.#checkTold(report.version);
  }

  /** My contacts from every conversation's view (see Presence.rebuildContacts), on my inboxes. */
  #rebuild(states: readonly PeerPresence[], me: string): void {
    const changes = this.h.presence.rebuildContacts(states, me, Date.now());
    if (changes.length > 0) this.h.toInbox(changes.map(presenceFrame));
  }

  /**
   * Tells `convs` my state at once and applies each answer (the views they hold go into
   * `states`); returns the conversations whose call failed.
   */
  async #tell(convs: string[], me: string, report: PresenceReport, states: PeerPresence[]): Promise<string[]> {
    const answers = await Promise.allSettled(convs.map((id) => this.#conversation(id).memberPresence(me, report)));
    const untold = this.#untold?.version === report.version ? this.#untold.convs : null;
    return convs.filter((id, i) => {
      const a = answers[i]!;
      if (a.status === "fulfilled") {
        untold?.delete(id);
        this.#applyAnswer(id, a.value, states);
      }
      return a.status === "rejected";
    });
  }

  #applyAnswer(conv: string, answer: AnnounceAnswer, states: PeerPresence[]): void {
    if (!answer.member) {
      // The conversation no longer has me (a leave whose second half never arrived): it goes.
      this.#drop(conv);
      return;
    }
    if (!answer.snapshot) return;
    this.h.index.refresh(answer.snapshot.entry);
    states.push(...answer.snapshot.presence);
  }

  #drop(conv: string): void {
    const seq = this.h.index.lastSeqOf(conv);
    if (seq !== null && this.h.index.remove(conv, seq)) this.h.toInbox([{ t: "left", conv }]);
  }

  /** Exact counts from every conversation (a list asked for while no inbox is open). */
  async refreshAll(): Promise<void> {
    const me = this.h.me();
    if (!me) return;
    const ids = this.h.index.ids();
    const answers = await Promise.allSettled(ids.map((id) => this.#conversation(id).summaryFor(me)));
    answers.forEach((a, i) => {
      if (a.status !== "fulfilled") return;
      if (a.value) this.h.index.refresh(a.value);
      else this.#drop(ids[i]!);
    });
  }

  /** An exact count for one conversation, shown on every inbox (a read mark with a stale figure). */
  async refreshOne(conv: string): Promise<void> {
    const me = this.h.me();
    if (!me) return;
    try {
      const entry = await this.#conversation(conv).summaryFor(me);
      if (!entry) return this.#drop(conv);
      this.h.index.refresh(entry);
      const s = this.h.index.summary(conv);
      if (s) this.h.toInbox([{ t: "read", conv, seq: s.readSeq, unread: s.unread, mentions: s.mentions ?? 0 }]);
    } catch {
      // The next inbox opening rebuilds every count.
    }
  }

  /** Who is online among the members of a conversation I just joined (announcements carry changes only). */
  async learnPresence(conv: string): Promise<void> {
    try {
      this.#contacts(await this.#conversation(conv).presenceStates());
    } catch {
      // The next announcement or inbox opening corrects it.
    }
  }

  /** Asks my DM peers for their state: heals announcements lost while I was away. */
  async refreshPeers(): Promise<void> {
    const peers = this.h.index.peers().slice(0, PRESENCE_REFRESH_MAX);
    const states = await Promise.allSettled(peers.map((p) => this.h.env.USERS.get(this.h.env.USERS.idFromName(p)).presenceState()));
    this.#contacts(states.flatMap((s, i) => (s.status === "fulfilled" ? [{ username: peers[i]!, ...s.value }] : [])));
  }

  #contacts(states: PeerPresence[]): void {
    const me = this.h.me();
    const now = Date.now();
    const frames: InboxServerFrame[] = states
      .filter((c) => c.username !== me && this.h.presence.setContact({ username: c.username, online: c.online, version: c.version }, now))
      .map(presenceFrame);
    if (frames.length > 0) this.h.toInbox(frames);
  }
}
