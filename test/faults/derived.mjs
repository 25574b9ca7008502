// The second family of invariants: what is derived from the log, checked once the run is quiet.
//
//   badges:   every member's unread count, as their inbox socket shows it and as
//             `GET /api/conversations` answers it, equals the truth: the messages from others with
//             seq > their read mark that are not deleted. The read mark is the conversation object's
//             (as `welcome.members[].readSeq` reports it); the Summary's readSeq must equal it too.
//   presence: every watcher (a member with an inbox socket open) shows each other member of their
//             rooms online exactly when that member has an open socket (conversation or inbox),
//             and so does `welcome.members[].online` on a fresh conversation socket.
//
// Derived figures may lag (notifications, leases, the heartbeat), so the comparison is retried for
// a bounded time; what still differs at the end is a violation.
import { fetchEventLog } from "./check.mjs";
import { sleep } from "./random.mjs";

/** A room's log as far as read so far, and its messages' sender and deleted flag. */
export class RoomTruth {
  constructor(room) {
    this.room = room;
    this.lastSeq = 0;
    /** seq -> { from, deleted } */
    this.messages = new Map();
    this.welcome = null;
  }

  /** Reads the log after what is known (deletions arrive as later events) and a fresh `welcome`. */
  async refresh(wsBase, token, protocol) {
    const { events, welcome } = await fetchEventLog(wsBase, this.room.id, token, protocol, this.lastSeq);
    for (const e of events) {
      if (e.seq !== this.lastSeq + 1) throw new Error(`truth log of ${this.room.id}: seq ${e.seq} after ${this.lastSeq}`);
      this.lastSeq = e.seq;
      if (e.t === "msg") this.messages.set(e.seq, { from: e.from, deleted: e.deleted === true });
      else if (e.t === "delete") {
        const m = this.messages.get(e.target);
        if (m) m.deleted = true;
      }
    }
    this.welcome = welcome;
  }

  readSeq(username) {
    return this.welcome?.members.find((m) => m.username === username)?.readSeq;
  }

  /** Messages from others after `readSeq`, not deleted. */
  unread(username, readSeq) {
    let n = 0;
    for (const [seq, m] of this.messages) if (seq > readSeq && m.from !== username && !m.deleted) n++;
    return n;
  }
}

/**
 * One comparison of everything derived with the truth, now.
 * @param rooms [{ id, people: Person[], truth: RoomTruth }] where Person is
 *        { account: {username, token}, member: Member, inbox: Inbox, joined: boolean }
 * @param summaries username -> Summary[] (GET /api/conversations), or an error string
 * @param tally counts of what was compared (to show the checks are not trivial), added to
 */
export function compare(rooms, summaries, tally = {}) {
  const count = (k) => {
    tally[k] = (tally[k] ?? 0) + 1;
  };
  const violations = [];
  const v = (kind, room, detail) => violations.push({ kind, room: room.id, ...detail });
  for (const room of rooms) {
    const { truth } = room;
    const joined = room.people.filter((p) => p.joined);
    const online = new Map(joined.map((p) => [p.account.username, p.member.open || p.inbox.open]));

    for (const p of joined) {
      const user = p.account.username;
      const readSeq = truth.readSeq(user);
      if (readSeq === undefined) {
        v("member_missing_from_welcome", room, { user });
        continue;
      }
      const expected = truth.unread(user, readSeq);
      const where = { user, readSeq, lastSeq: truth.lastSeq };
      count(expected > 0 ? "badgesNonZero" : "badgesZero");
      if (p.inbox.live) {
        const c = p.inbox.convs.get(room.id);
        if (!c) v("inbox_missing_conversation", room, where);
        else if (c.unread !== expected) v("badge_inbox", room, { ...where, expected, seen: c.unread, inboxReadSeq: c.readSeq });
      }
      const list = summaries.get(user);
      if (typeof list === "string") v("summary_unavailable", room, { user, error: list });
      else {
        const s = list.find((x) => x.id === room.id);
        if (!s) v("summary_missing_conversation", room, where);
        else {
          if (s.unread !== expected) v("badge_summary", room, { ...where, expected, seen: s.unread, summaryReadSeq: s.readSeq, summaryLastSeq: s.lastSeq });
          if (s.readSeq !== readSeq) v("summary_read_seq", room, { user, expected: readSeq, seen: s.readSeq });
        }
      }
      // welcome.members[].online on the checker's fresh socket.
      const shown = truth.welcome.members.find((m) => m.username === user)?.online === true;
      if (shown !== online.get(user)) v("presence_welcome", room, { user, expected: online.get(user), seen: shown, sockets: sockets(p) });
    }

    // Every watcher sees every other member online exactly when they have an open socket.
    for (const w of joined) {
      if (!w.inbox.live) continue;
      for (const p of joined) {
        if (p === w) continue;
        const user = p.account.username;
        const seen = w.inbox.online.has(user);
        count(online.get(user) ? "presenceOnline" : "presenceOffline");
        if (seen !== online.get(user)) v("presence_inbox", room, { watcher: w.account.username, user, expected: online.get(user), seen, sockets: sockets(p) });
      }
    }
  }
  return violations;
}

function sockets(p) {
  return { conversation: p.member.open, inbox: p.inbox.open };
}

/**
 * Compares until everything matches and has kept matching through `quietUntil()` (so that a late
 * wrong update is not missed), or `deadline()` has passed; both may move (a socket that opens or
 * closes meanwhile restarts the clock). Returns the violations of the last comparison (none when
 * it converged), how many comparisons it took and when the final run of matching ones began.
 */
export async function converge({ rooms, wsBase, protocol, api, quietUntil, deadline, everyMs = 500, tally = {} }) {
  let attempts = 0;
  let matchingSince = null;
  /** What differed before it matched: the kinds of lag a check saw on its way to converging. */
  const lagged = {};
  for (;;) {
    attempts++;
    const startedAt = Date.now();
    let violations;
    try {
      // All at once, so that one comparison is a snapshot of a moment, not of a few seconds.
      const people = rooms.flatMap((r) => r.people).filter((x) => x.joined);
      const [, answers] = await Promise.all([
        Promise.all(rooms.map((room) => room.truth.refresh(wsBase, room.owner.token, protocol))),
        Promise.all(people.map((p) => api("GET", "/api/conversations", p.account.token))),
      ]);
      const summaries = new Map(people.map((p, i) => [p.account.username, answers[i].status === 200 ? answers[i].data.conversations : `HTTP ${answers[i].status}`]));
      const attempt = {};
      violations = compare(rooms, summaries, attempt);
      if ((violations.length === 0 && Date.now() >= quietUntil()) || Date.now() >= deadline()) for (const [k, n] of Object.entries(attempt)) tally[k] = (tally[k] ?? 0) + n;
    } catch (err) {
      violations = [{ kind: "derived_check_failed", detail: String(err) }];
    }
    if (violations.length === 0) {
      matchingSince ??= startedAt;
      if (Date.now() >= quietUntil()) return { violations, attempts, matchedAt: matchingSince, lagged };
    } else {
      matchingSince = null;
      const kinds = {};
      for (const x of violations) kinds[x.kind] = (kinds[x.kind] ?? 0) + 1;
      for (const [k, n] of Object.entries(kinds)) lagged[k] = Math.max(lagged[k] ?? 0, n);
    }
    if (Date.now() >= deadline()) return { violations, attempts, matchedAt: null, lagged };
    await sleep(everyMs);
  }
}
