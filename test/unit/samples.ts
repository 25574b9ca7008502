/**
 * Sample frames of every type in protocol/frames.ts, with and without their optional fields.
 * Keyed by `t` through mapped types, so adding a frame type to the protocol fails the typecheck
 * here until it has samples (and so is covered by the round-trip tests).
 */
import type { ClientFrame, InboxServerFrame, Message, ServerFrame, Summary } from "../../protocol";

type ByType<U extends { t: string }> = { [K in U["t"]]: Extract<U, { t: K }>[] };

const TS = 1_763_776_532_123; // above 2^32: exercises 64-bit integers in msgpack

export const plainMessage: Message = { seq: 1, id: "m-1", from: "alice", body: "hello", ts: TS };

export const fullMessage: Message = {
  seq: 7,
  id: "c9f1e2",
  from: "bob",
  body: "multi\nline, tab\tand ünïcödé 👋🏽",
  ts: TS + 5,
  replyTo: 1,
  edited: true,
  deleted: false,
  reactions: [
    { emoji: "👍", users: ["alice", "bob"] },
    { emoji: "👨‍👩‍👧", users: [] },
  ],
};

/** v1.1: a message with only files (an image with its size, a document without). */
export const filesMessage: Message = {
  seq: 9,
  id: "f-1",
  from: "alice",
  body: "",
  ts: TS + 9,
  files: [
    { id: "Zk3-_q9", name: "photo.png", type: "image/png", size: 48_213, width: 1280, height: 720 },
    { id: "a1", name: "报告 final.pdf", type: "application/pdf", size: 10 * 1024 * 1024 },
  ],
};

export const deletedMessage: Message = { seq: 3, id: "gone", from: "alice", body: "", ts: TS, deleted: true };

export const dmSummary: Summary = { id: "dm_abc", kind: "dm", title: "bob", peer: "bob", lastSeq: 0, readSeq: 0, unread: 0 };

export const roomSummary: Summary = {
  id: "r_123",
  kind: "room",
  title: "General",
  members: 10_000,
  private: true,
  lastSeq: 4_294_967_296,
  readSeq: 12,
  unread: 3,
  mentions: 2,
  last: fullMessage,
};

export const clientSamples: ByType<ClientFrame> = {
  send: [
    { t: "send", id: "m1", body: "hi" },
    { t: "send", id: "x".repeat(64), body: "reply with\nnew line", replyTo: 42 },
    { t: "send", id: "m2", body: "", files: ["Zk3-_q9", "a1"] },
  ],
  sync: [{ t: "sync", since: 0 }, { t: "sync", since: 9_007_199_254_740_991 }],
  read: [{ t: "read", seq: 0 }, { t: "read", seq: 17 }],
  typing: [{ t: "typing" }],
  history: [{ t: "history", limit: 50 }, { t: "history", before: 100, limit: 20 }],
  edit: [{ t: "edit", target: 3, body: "fixed" }],
  delete: [{ t: "delete", target: 3 }],
  react: [{ t: "react", target: 3, emoji: "👍", on: true }, { t: "react", target: 4, emoji: "🎉", on: false }],
};

export const serverSamples: ByType<ServerFrame> = {
  welcome: [
    {
      t: "welcome",
      conv: roomSummary,
      me: "alice",
      members: [
        { username: "alice", name: "Alice", online: true, readSeq: 12 },
        { username: "bob", name: "Bob B.", online: false, readSeq: 0, lastSeen: TS },
      ],
    },
    {
      t: "welcome",
      conv: { ...roomSummary, role: "admin", topic: "plans" },
      me: "alice",
      members: [
        { username: "alice", name: "Alice", online: true, readSeq: 12, role: "owner" },
        { username: "zed", name: "Deleted account", online: false, readSeq: 0, role: "member", deleted: true },
      ],
    },
    { t: "welcome", conv: dmSummary, me: "bob", members: [] },
  ],
  msg: [{ t: "msg", ...plainMessage }, { t: "msg", ...fullMessage }, { t: "msg", ...filesMessage }],
  edit: [{ t: "edit", seq: 8, target: 7, body: "edited text", ts: TS }],
  delete: [{ t: "delete", seq: 9, target: 7, ts: TS }, { t: "delete", seq: 9, target: 7, ts: TS, by: "ann" }],
  react: [{ t: "react", seq: 10, target: 7, from: "alice", emoji: "👍", on: true, ts: TS }],
  member: [{ t: "member", seq: 11, username: "carol", name: "Carol", joined: true, ts: TS }, { t: "member", seq: 12, username: "carol", joined: false, ts: TS }, { t: "member", seq: 12, username: "carol", joined: false, ts: TS, by: "ann" }],
  room: [{ t: "room", seq: 13, title: "Plans", topic: "", private: true, by: "ann", ts: TS }],
  role: [{ t: "role", seq: 14, username: "bob", role: "admin", by: "ann", ts: TS }],
  profile: [{ t: "profile", username: "bob", name: "Bobby" }, { t: "profile", username: "zed", name: "Deleted account", deleted: true }],
  synced: [{ t: "synced", lastSeq: 0, more: false }, { t: "synced", lastSeq: 200, more: true, reset: true }],
  ack: [{ t: "ack", id: "m1", seq: 1, ts: TS }, { t: "ack", id: "m1", seq: 1, ts: TS, dup: true }],
  receipt: [{ t: "receipt", username: "bob", seq: 7 }],
  typing: [{ t: "typing", username: "bob" }],
  presence: [{ t: "presence", username: "bob", online: true }, { t: "presence", username: "bob", online: false }, { t: "presence", username: "bob", online: false, lastSeen: TS }],
  history: [{ t: "history", messages: [plainMessage, deletedMessage, fullMessage], more: true }, { t: "history", messages: [], more: false }],
  error: [
    { t: "error", code: "invalid", message: "send: body must not be empty", id: "m1" },
    { t: "error", code: "rate_limited", message: "slow down" },
  ],
};

export const inboxSamples: ByType<InboxServerFrame> = {
  inbox: [
    { t: "inbox", conversations: [roomSummary, dmSummary], online: ["alice", "bob"] },
    { t: "inbox", conversations: [], online: [] },
  ],
  activity: [
    { t: "activity", conv: "r_123", seq: 13, from: "bob", preview: "hello th…", ts: TS, unread: 4 },
    { t: "activity", conv: "r_123", seq: 14, from: "bob", preview: "@ann look", ts: TS, unread: 5, mentions: 1 },
  ],
  read: [{ t: "read", conv: "r_123", seq: 13, unread: 0 }, { t: "read", conv: "r_123", seq: 14, unread: 0, mentions: 0 }],
  presence: [{ t: "presence", username: "carol", online: true }, { t: "presence", username: "carol", online: false, lastSeen: TS }],
  joined: [{ t: "joined", conversation: roomSummary }, { t: "joined", conversation: { ...dmSummary, muted: true } }],
  left: [{ t: "left", conv: "r_123" }],
  muted: [{ t: "muted", conv: "r_123", muted: true }, { t: "muted", conv: "r_123", muted: false }],
  error: [{ t: "error", code: "internal", message: "internal error" }],
};

export function all<U extends { t: string }>(samples: ByType<U>): U[] {
  const out: U[] = [];
  for (const list of Object.values<U[]>(samples)) out.push(...list);
  return out;
}
