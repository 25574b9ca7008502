/**
 * Every frame of the wire contract (PROTOCOL.md section 3) as closed unions, discriminated by `t`.
 * Shared by the Worker, the web app and the load generator; no DOM or Workers types here.
 */
import type { ErrorCode } from "./limits";

export type ConversationKind = "dm" | "room";

/** A member's role in a room (v1.1): exactly one owner; admins moderate; members talk. */
export type Role = "owner" | "admin" | "member";
export const ROLES: readonly Role[] = ["owner", "admin", "member"];

export interface Reaction {
  emoji: string;
  /** Usernames, in the order they reacted. */
  users: string[];
}

/**
 * A file attached to a message (v1.1, PROTOCOL.md 7.4). `type` is one of the five image types only
 * when the file's first bytes are that image (then `width` and `height` come from its header when
 * they could be read); anything else keeps its declared type, or `application/octet-stream`, and
 * is always served as a download. `size` in bytes.
 */
export interface FileRef {
  id: string;
  name: string;
  type: string;
  size: number;
  width?: number;
  height?: number;
}

export interface Message {
  /** The event that created the message. */
  seq: number;
  /** The sender's own message id (from its `send`). */
  id: string;
  from: string;
  /** Empty once deleted. */
  body: string;
  /** Server time, ms since the epoch. */
  ts: number;
  replyTo?: number;
  edited?: boolean;
  deleted?: boolean;
  reactions?: Reaction[];
  /** v1.1: the files sent with it (gone once it is deleted). */
  files?: FileRef[];
}

export interface Summary {
  id: string;
  kind: ConversationKind;
  title: string;
  /** Rooms: how many members. */
  members?: number;
  /** DMs: the other person's username. */
  peer?: string;
  /** Rooms: invitation only. */
  private?: boolean;
  /** Rooms (v1.1): my own role there. */
  role?: Role;
  /** Rooms (v1.1): the topic, when one is set. */
  topic?: string;
  lastSeq: number;
  readSeq: number;
  unread: number;
  /** How many of the unread messages mention me (`@username`, protocol/markup.ts); absent when none. */
  mentions?: number;
  last?: Message;
  /** v1.1 (7.6): I muted it (it counts unread but never pushes); absent when not muted. */
  muted?: boolean;
}

export interface Member {
  username: string;
  name: string;
  online: boolean;
  readSeq: number;
  /** Rooms (v1.1): the member's role. */
  role?: Role;
  /** v1.1: the account was erased (its messages stay in DMs; show it as a deleted account). */
  deleted?: boolean;
  /** v1.1: when an offline member was last online, ms since the epoch (absent when unknown). */
  lastSeen?: number;
}

export interface User {
  username: string;
  name: string;
}

/**
  * An invite link to a private room (v1.1, issue 14; `/api/conversations/:id/invites`): whoever
 * holds `token` may join until `expires` (ms since the epoch) unless it is revoked first.
 */
export interface InviteLink {
  token: string;
  /** The admin or owner who made it. */
  by: string;
  created: number;
  expires: number;
}

/**
 * The signed-in user as /api/me, sign-up, log-in and `PATCH /api/me` answer it (an extension of
 * 7.6): `previews` false means pushes carry no message text (their `preview` is "").
 */
export interface Me extends User {
  previews: boolean;
}

/** A public room in the directory (GET /api/conversations/public). */
export interface RoomListing {
  id: string;
  title: string;
  /** When it was created, ms since the epoch. */
  created: number;
}

// ---- conversation socket: server to client -------------------------------------------------

export interface WelcomeFrame { t: "welcome"; conv: Summary; me: string; members: Member[] }
export interface MsgFrame extends Message { t: "msg" }
export interface EditFrame { t: "edit"; seq: number; target: number; body: string; ts: number }
/** `by`: who deleted it, when not its author (a moderator, v1.1). */
export interface DeleteFrame { t: "delete"; seq: number; target: number; ts: number; by?: string }
export interface ReactFrame { t: "react"; seq: number; target: number; from: string; emoji: string; on: boolean; ts: number }
/** `name`: the member's display name (v1.1; absent from older servers and from events of deleted accounts). */
/** `by`: the admin or owner who removed or banned them (v1.1). */
export interface MemberFrame { t: "member"; seq: number; username: string; name?: string; joined: boolean; ts: number; by?: string }
/** A room's settings changed (v1.1): its state after the change, and who changed it. */
export interface RoomFrame { t: "room"; seq: number; title: string; topic: string; private: boolean; by: string; ts: number }
/** A member's role changed (v1.1); `by` is the owner who changed it (or the owner who left). */
export interface RoleFrame { t: "role"; seq: number; username: string; role: Role; by: string; ts: number }
export interface SyncedFrame { t: "synced"; lastSeq: number; more: boolean; reset?: boolean }
export interface AckFrame { t: "ack"; id: string; seq: number; ts: number; dup?: boolean }
export interface ReceiptFrame { t: "receipt"; username: string; seq: number }
export interface TypingFrame { t: "typing"; username: string }
/** `lastSeen` (v1.1): with `online: false`, when they were last online (absent when unknown). */
export interface PresenceFrame { t: "presence"; username: string; online: boolean; lastSeen?: number }
export interface HistoryFrame { t: "history"; messages: Message[]; more: boolean }
/** A member's display name changed, or their account was erased (`deleted`); not an event (v1.1). */
export interface ProfileFrame { t: "profile"; username: string; name: string; deleted?: boolean }
export interface ErrorFrame { t: "error"; code: ErrorCode; message: string; id?: string }

/** Events of the conversation log: each has its own `seq`. */
export type EventFrame = MsgFrame | EditFrame | DeleteFrame | ReactFrame | MemberFrame | RoomFrame | RoleFrame;

export type ServerFrame =
  | WelcomeFrame
  | EventFrame
  | SyncedFrame
  | AckFrame
  | ReceiptFrame
  | TypingFrame
  | PresenceFrame
  | HistoryFrame
  | ProfileFrame
  | ErrorFrame;

// ---- conversation socket: client to server -------------------------------------------------

/** `files` (v1.1): ids of files the sender uploaded to this conversation; `body` may then be "". */
export interface SendFrame { t: "send"; id: string; body: string; replyTo?: number; files?: string[] }
export interface SyncFrame { t: "sync"; since: number }
export interface ReadFrame { t: "read"; seq: number }
export interface TypingRequest { t: "typing" }
export interface HistoryRequest { t: "history"; before?: number; limit?: number }
export interface EditRequest { t: "edit"; target: number; body: string }
export interface DeleteRequest { t: "delete"; target: number }
export interface ReactRequest { t: "react"; target: number; emoji: string; on: boolean }

export type ClientFrame =
  | SendFrame
  | SyncFrame
  | ReadFrame
  | TypingRequest
  | HistoryRequest
  | EditRequest
  | DeleteRequest
  | ReactRequest;

export type ClientFrameType = ClientFrame["t"];

// ---- inbox socket: server to client --------------------------------------------------------

export interface InboxFrame { t: "inbox"; conversations: Summary[]; online: string[] }
/** `mentions`: how many unread messages mention me after this one (absent from older servers: none). */
export interface ActivityFrame { t: "activity"; conv: string; seq: number; from: string; preview: string; ts: number; unread: number; mentions?: number }
/** `unread` and `mentions` are the counts now (deletions too send this frame). */
export interface InboxReadFrame { t: "read"; conv: string; seq: number; unread: number; mentions?: number }
export interface JoinedFrame { t: "joined"; conversation: Summary }
/** I am no longer a member of `conv` (I left on another device, was removed, or it was deleted). */
export interface LeftFrame { t: "left"; conv: string }
/** v1.1 (7.6): I muted or unmuted `conv` (on this or another device); `Summary.muted` follows. */
export interface MutedFrame { t: "muted"; conv: string; muted: boolean }

export type InboxServerFrame = InboxFrame | ActivityFrame | InboxReadFrame | PresenceFrame | JoinedFrame | LeftFrame | MutedFrame | ErrorFrame;

/** Any frame a server sends, on either socket. */
export type AnyServerFrame = ServerFrame | InboxServerFrame;
