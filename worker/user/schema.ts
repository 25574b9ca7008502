import type { AddedColumn } from "../schema-columns";

/** The user object's SQLite schema: the account, its sessions and the conversation index. */
export const USER_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS account (
     username TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     salt TEXT NOT NULL,
     hash TEXT NOT NULL,
     iterations INTEGER NOT NULL,
     created INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS sessions (
     id TEXT PRIMARY KEY,
     created INTEGER NOT NULL,
     expires INTEGER NOT NULL,
     revoked INTEGER NOT NULL DEFAULT 0
   )`,
  // One row per conversation I belong to: what the side bar shows, kept current by the
  // conversation objects' notifications. notified_seq: the highest seq already counted.
  `CREATE TABLE IF NOT EXISTS convs (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     title TEXT NOT NULL,
     peer TEXT,
     members INTEGER,
     private INTEGER NOT NULL DEFAULT 0,
     last_seq INTEGER NOT NULL DEFAULT 0,
     read_seq INTEGER NOT NULL DEFAULT 0,
     unread INTEGER NOT NULL DEFAULT 0,
     notified_seq INTEGER NOT NULL DEFAULT 0,
     last TEXT,
     updated INTEGER NOT NULL
   )`,
  `CREATE INDEX IF NOT EXISTS convs_updated ON convs (updated DESC)`,
  // The unread messages that mention me, by conversation (conversations.ts): a set of seqs rather
  // than a count, so a repeated batch adds nothing and a deletion takes off only a real mention.
  `CREATE TABLE IF NOT EXISTS unread_mentions (conv TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (conv, seq)) WITHOUT ROWID`,
  // Conversations I am no longer in, with the seq as of which: a late add from before cannot
  // bring one back (see ConversationIndex.upsert and remove).
  `CREATE TABLE IF NOT EXISTS left_convs (id TEXT PRIMARY KEY, seq INTEGER NOT NULL)`,
  // Budgets of the signed-in user (worker/user/account.ts): one row per HTTP request in the last
  // minute and per room created in the last day, so each table holds at most its limit in rows.
  // (Failed log-ins per username are counted in worker/limiter.ts; objects made before that keep
  // an unused login_failures table.)
  `CREATE TABLE IF NOT EXISTS http_hits (at INTEGER NOT NULL)`,
  // File downloads in the last minute: a budget of their own, larger (see Account.checkSession).
  `CREATE TABLE IF NOT EXISTS file_hits (at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS room_creations (at INTEGER NOT NULL)`,
  // Places held under the cap on conversations for ones being created or joined right now.
  `CREATE TABLE IF NOT EXISTS conversation_holds (id TEXT PRIMARY KEY, at INTEGER NOT NULL)`,
  // v1.1 (worker/user/settings.ts): what my conversations are still owed of a name change, an
  // erasure or a block (kind: "name" | "erase" | "block:<username>"; payload: JSON), and the
  // people I block.
  `CREATE TABLE IF NOT EXISTS conv_notes (conv TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (conv, kind))`,
  `CREATE TABLE IF NOT EXISTS blocks (username TEXT PRIMARY KEY, at INTEGER NOT NULL)`,
];

/** Presence: what keeps me online, and what I know of the people I share a conversation with. */
export const PRESENCE_SCHEMA = [
  // A conversation object where I have open sockets holds a lease here, renewed by its heartbeat
  // alarm: if that object crashes and never says goodbye, the lease runs out and I go offline.
  // sessions (v1.1, 7.6): JSON list of the sessions whose sockets are open there, so that a push
  // skips a device that is looking; NULL from objects that did not say (then: any session may be).
  `CREATE TABLE IF NOT EXISTS presence_leases (conv TEXT PRIMARY KEY, until INTEGER NOT NULL, sessions TEXT)`,
  // My last announced state, so that only changes are announced. watching: an inbox of mine is
  // open, so my conversations send me their members' presence changes.
  // version: stamped on every change of my state, only growing, carried by each announcement so
  // that a late one is recognised as older than what a conversation or contact already holds.
  // push (v1.1, 7.6): I have push subscriptions, so my conversations tell me about new messages.
  `CREATE TABLE IF NOT EXISTS presence_state (id INTEGER PRIMARY KEY CHECK (id = 1), online INTEGER NOT NULL, watching INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0, push INTEGER NOT NULL DEFAULT 0)`,
  // version: the version of the contact's own announcement that set this state.
  `CREATE TABLE IF NOT EXISTS contacts (username TEXT PRIMARY KEY, online INTEGER NOT NULL, at INTEGER NOT NULL, version INTEGER NOT NULL DEFAULT 0)`,
];

/** Columns added after the tables above were first created (see addMissingColumns). */
export const PRESENCE_COLUMNS: readonly AddedColumn[] = [
  { table: "presence_state", column: "watching", definition: "INTEGER NOT NULL DEFAULT 0" },
  { table: "presence_state", column: "version", definition: "INTEGER NOT NULL DEFAULT 0" },
  { table: "contacts", column: "version", definition: "INTEGER NOT NULL DEFAULT 0" },
  { table: "presence_state", column: "push", definition: "INTEGER NOT NULL DEFAULT 0" },
  { table: "presence_leases", column: "sessions", definition: "TEXT" },
  // v1.1 (issue 14): when I went offline (null while online), announced with my state.
  { table: "presence_state", column: "last_seen", definition: "INTEGER" },
  // 1 while some conversation may not have taken my last announced state (set with the state,
  // cleared once every one of them answered): a wake of a fresh instance announces it again,
  // since the retries of the instance that made it went with it (watch.ts).
  { table: "presence_state", column: "untold", definition: "INTEGER NOT NULL DEFAULT 0" },
];

/** Columns added to the tables of USER_SCHEMA after they were first created (v1.1, issue 13). */
export const USER_COLUMNS: readonly AddedColumn[] = [
  // Rooms: my role and the topic, as the conversation last told my list.
  { table: "convs", column: "role", definition: "TEXT" },
  { table: "convs", column: "topic", definition: "TEXT" },
  // Sessions: a public id (the session id itself is a secret inside the token), last use, device.
  { table: "sessions", column: "pid", definition: "TEXT" },
  { table: "sessions", column: "last_used", definition: "INTEGER" },
  { table: "sessions", column: "agent", definition: "TEXT" },
  // The account was erased: the row stays as a tombstone (the username is never given out again).
  { table: "account", column: "erased", definition: "INTEGER NOT NULL DEFAULT 0" },
  // v1.1 (7.6): pushes carry message previews (1) or not (0); I muted a conversation (1).
  { table: "account", column: "previews", definition: "INTEGER NOT NULL DEFAULT 1" },
  { table: "convs", column: "muted", definition: "INTEGER NOT NULL DEFAULT 0" },
];
