import { addMissingColumns, type AddedColumn } from "../schema-columns";
import { BUDGET_SCHEMA } from "./budgets";
import { CHECKED_SESSIONS_SCHEMA } from "./checked-sessions-table";
import { FILES_SCHEMA } from "./files";
import { INVITES_SCHEMA } from "./invites";
import { LOG_COLUMNS, MESSAGE_LOG_COLUMNS } from "./log-reader";
import { MEMBER_SYNC_SCHEMA } from "./member-sync";
import { NOTIFY_SCHEMA } from "./notify";
import { PRESENCE_TABLE_SCHEMA } from "./presence-table";
import { PROFILE_SCHEMA } from "./profile";
import { adoptOwner, ROLES_SCHEMA } from "./roles";
import { installOnce, schemaFingerprint } from "../schema-revision";

/**
 * The conversation object's SQLite schema. The ordered log every client replays is two tables
 * sharing one sequence: `messages`, one row per message that is its own `msg` event and holds the
 * message's current state (edits applied, bodies erased on delete), and `events`, every other
 * event. A send writes one row, and history and search never have to fold the log. The view
 * `log` reads both as one (log-reader.ts reads the same union directly).
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
  // type: edit | delete | react | member | room | role (| deleted, never replayed; | msg in
  // objects made before messages left this table: ignored, and removed by installSchema). actor:
  // the sender, editor, reactor, member, the room's changer, or the member whose role changed.
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
  `CREATE VIEW IF NOT EXISTS log (seq, type, ts, actor, target, body, emoji, flag, client_id, text, reply_to, edited, deleted, by_user, data) AS
     SELECT ${LOG_COLUMNS} FROM events WHERE type != 'msg' UNION ALL SELECT ${MESSAGE_LOG_COLUMNS} FROM messages`,
  // Trigram tokens find substrings in any script (Chinese included); rowid = the message's seq.
  `CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(body, tokenize = 'trigram')`,
  // Messages up to this seq are in messages_fts: indexing runs off the send path, in batches.
  `CREATE TABLE IF NOT EXISTS fts_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)`,
  // Members' presence as their own objects announced it, the senders' budgets, what is owed to
  // members' objects (notifications, membership): see the modules.
  ...PRESENCE_TABLE_SCHEMA,
  ...INVITES_SCHEMA,
  ...BUDGET_SCHEMA,
  ...NOTIFY_SCHEMA,
  ...MEMBER_SYNC_SCHEMA,
  ...ROLES_SCHEMA,
  ...PROFILE_SCHEMA,
  // v1.1 (issue 15): uploaded files and their attachment to messages (files.ts).
  ...FILES_SCHEMA,
  // Sessions members' objects vouched for lately: a socket back after a restart skips the call.
  ...CHECKED_SESSIONS_SCHEMA,
];

/** Columns added after the tables above were first created (see addMissingColumns). */
export const CONVERSATION_COLUMNS: readonly AddedColumn[] = [
  { table: "presence", column: "watching", definition: "INTEGER NOT NULL DEFAULT 0" },
  { table: "presence", column: "version", definition: "INTEGER NOT NULL DEFAULT 0" },
  // v1.1 (7.6): the member has push subscriptions (presence-table.ts).
  { table: "presence", column: "push", definition: "INTEGER NOT NULL DEFAULT 0" },
  // v1.1 (issue 14): when an offline member was last online, as announced.
  { table: "presence", column: "last_seen", definition: "INTEGER" },
  // v1.1 (issue 13): roles, display-name versions and erased accounts; who moderated an event,
  // and a room event's settings (JSON).
  { table: "members", column: "role", definition: "TEXT NOT NULL DEFAULT 'member'" },
  { table: "members", column: "name_v", definition: "INTEGER NOT NULL DEFAULT 0" },
  { table: "members", column: "erased", definition: "INTEGER NOT NULL DEFAULT 0" },
  { table: "events", column: "by_user", definition: "TEXT" },
  { table: "events", column: "data", definition: "TEXT" },
];

/**
 * Creates every table (and brings older objects' tables up to date), unless this revision of the
 * schema is already installed (schema-revision.ts). Run when the object starts, and again by
 * `create` if the object wiped itself after being asked about a conversation it does not hold
 * (see ConversationObject).
 */
export function installSchema(sql: SqlStorage): void {
  installOnce(sql, REVISION, installEverything);
}

function installEverything(sql: SqlStorage): void {
  for (const statement of CONVERSATION_SCHEMA) sql.exec(statement);
  addMissingColumns(sql, CONVERSATION_COLUMNS);
  adoptOwner(sql);
  dropMessageEvents(sql);
  // Without this, FTS5 deletes only add delete markers and a deleted (or edited) body's trigrams
  // stay in the index segments until a merge: a deleted message must leave no text behind.
  // The option is stored in the table's own config, so objects created earlier get it too.
  const secure = sql.exec("SELECT v FROM messages_fts_config WHERE k = 'secure-delete'").toArray()[0];
  if (secure?.v !== 1) sql.exec("INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1)");
  // Objects that indexed on the send path before the cursor existed start after what they hold.
  // Asked only when there is no cursor yet: max(rowid) of an FTS5 table reads its whole index.
  if (sql.exec("SELECT 1 FROM fts_cursor WHERE id = 1").toArray().length === 0) {
    sql.exec("INSERT INTO fts_cursor (id, seq) SELECT 1, coalesce(max(rowid), 0) FROM messages_fts");
  }
}

/**
 * Objects made before a message's row became its own event also hold a `msg` row in `events` for
 * each message: removed once (they are never read), and the object marked as done in `meta`. An
 * object without a conversation (a made-up id being erased) is left as it is.
 */
function dropMessageEvents(sql: SqlStorage): void {
  const state = sql.exec<{ k: string }>("SELECT k FROM meta WHERE k IN ('kind', 'log')").toArray().map((r) => r.k);
  if (!state.includes("kind") || state.includes("log")) return;
  sql.exec("DELETE FROM events WHERE type = 'msg'");
  sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('log', '2')");
}

/** What the install runs: any change to it installs again at the next wake. */
const REVISION = schemaFingerprint([
  ...CONVERSATION_SCHEMA,
  JSON.stringify(CONVERSATION_COLUMNS),
  installEverything,
  addMissingColumns,
  adoptOwner,
  dropMessageEvents,
]);
