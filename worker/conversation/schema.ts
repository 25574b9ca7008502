import type { AddedColumn } from "../schema-columns";

/**
 * The conversation object's SQLite schema. `events` is the ordered log every client replays;
 * `messages` holds each message's current state (edits applied, bodies erased on delete), so
 * history and search never have to fold the log.
 */
export const CONVERSATION_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS members (
     username TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     joined_at INTEGER NOT NULL,
     read_seq INTEGER NOT NULL DEFAULT 0,
     active INTEGER NOT NULL DEFAULT 1
   )`,
  // type: msg | edit | delete | react | member. actor: the sender, editor, reactor or member.
  // target: the message an edit, delete or reaction is about. flag: react on / member joined.
  `CREATE TABLE IF NOT EXISTS events (
     seq INTEGER PRIMARY KEY,
     type TEXT NOT NULL,
     ts INTEGER NOT NULL,
     actor TEXT NOT NULL,
     target INTEGER,
     body TEXT,
     emoji TEXT,
     flag INTEGER
   )`,
  `CREATE INDEX IF NOT EXISTS events_target ON events (target) WHERE target IS NOT NULL`,
  `CREATE TABLE IF NOT EXISTS messages (
     seq INTEGER PRIMARY KEY,
     client_id TEXT NOT NULL,
     sender TEXT NOT NULL,
     body TEXT NOT NULL,
     ts INTEGER NOT NULL,
     reply_to INTEGER,
     edited INTEGER NOT NULL DEFAULT 0,
     deleted INTEGER NOT NULL DEFAULT 0,
     UNIQUE (sender, client_id)
   )`,
  `CREATE TABLE IF NOT EXISTS reactions (
     target INTEGER NOT NULL,
     emoji TEXT NOT NULL,
     username TEXT NOT NULL,
     at INTEGER NOT NULL,
     PRIMARY KEY (target, emoji, username)
   )`,
  // Trigram tokens find substrings in any script (Chinese included); rowid = the message's seq.
  `CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(body, tokenize = 'trigram')`,
  // Messages up to this seq are in messages_fts: indexing runs off the send path, in batches.
  `CREATE TABLE IF NOT EXISTS fts_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)`,
  // Members' presence as their own objects announced it (they see all of a user's devices).
  // watching: the member has an inbox open, so presence changes here are worth sending to them.
  `CREATE TABLE IF NOT EXISTS presence (username TEXT PRIMARY KEY, online INTEGER NOT NULL, watching INTEGER NOT NULL DEFAULT 0)`,
  // Token buckets for sends, per user: in SQLite so that hibernation does not refill them.
  `CREATE TABLE IF NOT EXISTS rates (username TEXT PRIMARY KEY, tokens REAL NOT NULL, at INTEGER NOT NULL)`,
];

/** Columns added after the tables above were first created (see addMissingColumns). */
export const CONVERSATION_COLUMNS: readonly AddedColumn[] = [
  { table: "presence", column: "watching", definition: "INTEGER NOT NULL DEFAULT 0" },
];
