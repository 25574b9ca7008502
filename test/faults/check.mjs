// The checker: reads each room's full event log (a fresh socket with since=0, following `sync`
// while `more`), its message history over HTTP (paging with `before`), and every client's log, and
// states each promise of PROTOCOL.md section 4 as a check that lists its violations.
import WebSocket from "ws";
import { eventKey, sameEvent } from "./client.mjs";

/**
 * The whole event log of a conversation (or the part after `since`), in the order the server
 * replays it, and the `welcome` frame (the members' read marks and presence as the object holds them).
 */
export function fetchEventLog(baseUrl, convId, token, protocol, since = 0) {
  const codec = protocol.createCodec("chat.v1.msgpack", protocol.DEFAULT_LIMITS);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl}/chat/${convId}?since=${since}`, ["chat.v1.msgpack"], { headers: { Authorization: `Bearer ${token}` } });
    const events = [];
    let welcome = null;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("event log fetch timed out"));
    }, 60_000);
    ws.on("message", (data) => {
      for (const f of codec.decodeAll(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))) {
        if (["msg", "member", "edit", "delete", "react"].includes(f.t)) events.push(f);
        else if (f.t === "welcome") welcome = f;
        else if (f.t === "synced") {
          if (f.more) ws.send(codec.encode({ t: "sync", since: events.length > 0 ? events[events.length - 1].seq : since }));
          else {
            clearTimeout(timer);
            ws.close();
            resolve({ events, synced: f, welcome });
          }
        }
      }
    });
    ws.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`event log socket closed (${code}) before synced`));
    });
  });
}

/** Every message over HTTP, newest page first, joined into ascending order. */
export async function fetchHistory(baseUrl, convId, token) {
  const pages = [];
  let before;
  for (;;) {
    const q = before === undefined ? "limit=100" : `limit=100&before=${before}`;
    const res = await fetch(`${baseUrl}/api/conversations/${convId}/messages?${q}`, { headers: { Authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`history: ${res.status} ${await res.text()}`);
    const page = await res.json();
    pages.unshift(page.messages);
    if (!page.more || page.messages.length === 0) break;
    before = page.messages[0].seq;
  }
  return pages.flat();
}

/**
 * @param rooms [{ id, members: Member[], expectedJoins: string[], log: {events, synced}, history: Message[] }]
 * @returns {{ violations: object[], counts: object }}
 */
export function check(rooms) {
  const violations = [];
  const v = (kind, room, detail) => violations.push({ kind, room, detail });
  const counts = { events: 0, messagesStored: 0, sent: 0, sendFrames: 0, acked: 0, dupAcks: 0, unacked: 0, unackedStored: 0, abandoned: 0, delivered: 0, wireDuplicates: 0, connects: 0, heartbeatKills: 0 };

  for (const room of rooms) {
    const { events, synced } = room.log;
    counts.events += events.length;
    // seq unique and gap-free, over every event type.
    events.forEach((e, i) => {
      if (e.seq !== i + 1) v("log_seq_not_gap_free", room.id, { index: i, seq: e.seq });
    });
    if (synced.lastSeq !== events.length) v("log_end", room.id, { synced: synced.lastSeq, events: events.length });
    const bySeq = new Map(events.map((e) => [e.seq, e]));

    // The message history over HTTP is the log's messages, in the same order.
    const logMsgs = events.filter((e) => e.t === "msg");
    counts.messagesStored += logMsgs.length;
    const hist = room.history;
    if (hist.length !== logMsgs.length) v("history_count", room.id, { http: hist.length, log: logMsgs.length });
    hist.forEach((m, i) => {
      const e = logMsgs[i];
      if (!e || e.seq !== m.seq || e.id !== m.id || e.from !== m.from || e.body !== m.body) v("history_differs_from_log", room.id, { http: m, log: e });
    });

    // Joins: every member who joined has its event.
    const joins = events.filter((e) => e.t === "member" && e.joined).map((e) => e.username).sort();
    if (JSON.stringify(joins) !== JSON.stringify([...room.expectedJoins].sort())) v("member_events", room.id, { joins, expected: room.expectedJoins });

    // Nothing stored that nobody sent; each (sender, id) stored at most once.
    const sentBy = new Map(room.members.map((m) => [m.name, m.sent]));
    const storedIds = new Map();
    for (const e of logMsgs) {
      const key = `${e.from}\n${e.id}`;
      if (storedIds.has(key)) v("stored_twice", room.id, { from: e.from, id: e.id, seqs: [storedIds.get(key), e.seq] });
      storedIds.set(key, e.seq);
      const s = sentBy.get(e.from)?.get(e.id);
      if (!s || (!e.deleted && s.body !== e.body)) v("stored_but_never_sent", room.id, { seq: e.seq, from: e.from, id: e.id });
    }

    for (const member of room.members) {
      counts.sendFrames += member.counts.sendFrames;
      counts.dupAcks += member.counts.dupAcks;
      counts.wireDuplicates += member.counts.wireDuplicates;
      counts.connects += member.counts.connects;
      counts.heartbeatKills += member.counts.heartbeatKills;
      for (const x of member.violations) violations.push(x);

      // No acked message lost: it is in the log at the acked seq, as sent.
      let lastN = 0;
      for (const m of member.sent.values()) {
        counts.sent++;
        if (m.abandoned) counts.abandoned++;
        const stored = storedIds.get(`${member.name}\n${m.id}`);
        if (m.ack) {
          counts.acked++;
          const e = bySeq.get(m.ack.seq);
          if (e?.t !== "msg" || e.from !== member.name || e.id !== m.id || (!e.deleted && e.body !== m.body)) v("acked_message_lost", room.id, { id: m.id, ackSeq: m.ack.seq, found: e && eventKey(e) });
        } else {
          counts.unacked++;
          if (stored !== undefined) counts.unackedStored++;
        }
      }
      // Each sender's messages in their send order.
      for (const e of logMsgs) {
        if (e.from !== member.name) continue;
        const n = member.sent.get(e.id)?.n ?? 0;
        if (n <= lastN) v("sender_order", room.id, { sender: member.name, id: e.id, seq: e.seq, after: lastN });
        lastN = n;
      }

      // Every receiver applied an unbroken run, each event as the log has it, and ended at the end.
      counts.delivered += member.applied.filter((a) => a.key.startsWith("msg|")).length;
      const first = member.applied[0]?.seq ?? 1;
      member.applied.forEach((a, i) => {
        if (a.seq !== first + i) v("receiver_run_broken", room.id, { member: member.name, at: i, seq: a.seq });
        const e = bySeq.get(a.seq);
        if (!e || !sameEvent(a.key, e)) v("receiver_saw_other_event", room.id, { member: member.name, seq: a.seq, saw: a.key, log: e && eventKey(e) });
      });
      if (first !== 1) v("receiver_did_not_start_at_1", room.id, { member: member.name, first });
      if (member.lastSeq !== events.length) v("member_not_at_end", room.id, { member: member.name, lastSeq: member.lastSeq, end: events.length });
    }
  }
  return { violations, counts };
}
