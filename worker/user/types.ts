/** What conversation objects and user objects tell each other. */
import type { ConversationKind, Message, Role } from "../../protocol";

export interface ActivityItem {
  seq: number;
  from: string;
  /** The sender's display name (v1.1, for pushes; absent from older objects' batches). */
  name?: string;
  preview: string;
  ts: number;
  /** Deleted before this batch was made: never counted as unread. */
  deleted?: boolean;
  /** Who the message mentions (protocol/markup.ts `mentions`), when anyone. */
  mentions?: string[];
}

/** New events of one conversation, for one member's index. */
export interface ActivityBatch {
  conv: string;
  /** The conversation's last seq and last message when the batch was made. */
  lastSeq: number;
  last: Message | null;
  /** Rooms: the member count now. */
  members?: number;
  /** New messages, ascending; each counted once even if the batch is delivered twice. */
  items: ActivityItem[];
  /** Messages deleted since: a deleted message no longer counts as unread. */
  deleted: { target: number; from: string; seq: number }[];
}

/** A conversation as one member sees it, for their index. */
export interface IndexEntry {
  id: string;
  kind: ConversationKind;
  title: string;
  peer?: string;
  members?: number;
  private?: boolean;
  /** Rooms (v1.1): my role, and the topic when set. */
  role?: Role;
  topic?: string;
  lastSeq: number;
  readSeq: number;
  unread: number;
  last?: Message;
  /**
   * The unread messages that mention this member, as seqs (the newest MENTIONS_COUNTED_MAX), exact
   * as of lastSeq. Seqs rather than a count: a later deletion must know whether it took one away.
   * Only on entries for the member's own index, never in a Summary a client sees.
   */
  mentionSeqs?: number[];
}

/**
 * A user's state as their object announces it to their conversations. `version` only grows (the
 * user object stamps each new state), so a conversation can tell a late announcement from a new one.
 */
export interface PresenceReport {
  online: boolean;
  /** Offline: when the user went offline, ms since the epoch (absent when not known). */
  lastSeen?: number;
  /** An inbox of the user's is open: their conversations tell them about activity and presence. */
  watching: boolean;
  /**
   * v1.1 (7.6): the user has push subscriptions, so their conversations tell them about new
   * messages even while no inbox is open (their object decides whom to push to). Absent from
   * objects older than that: no subscriptions.
   */
  push?: boolean;
  version: number;
}

/**
 * A conversation's presence lease for one member: they have sockets there until `until` (renewed
 * by its heartbeat), opened with `sessions` (a push skips those devices).
 */
export interface SocketLease {
  conv: string;
  until: number;
  sessions: string[];
}

/**
 * A member's object's answer to a conversation's lease report: the sessions signed out among
 * those named (their sockets there are closed), and the member's state as announced now. The
 * state rides along so that every renewal repairs a conversation that missed an announcement
 * (all its tries failed, or the object that made them was reset): without it, one lost
 * "online" left the member's watchers showing them offline until their next change.
 */
export interface LeaseAnswer {
  ended: string[];
  presence: PresenceReport;
}

/** One person's announced state, passed on to the people who share a conversation with them. */
export interface PeerPresence {
  username: string;
  online: boolean;
  /** Offline: when they were last online (see PresenceReport). */
  lastSeen?: number;
  version: number;
}

/** A conversation's view of one member, for that member's object to rebuild its index from. */
export interface WatchSnapshot {
  /** Every member's announced state (empty for rooms too large to fan presence out). */
  presence: PeerPresence[];
  /** The conversation as that member sees it now: counts exact as of its lastSeq. */
  entry: IndexEntry;
}

/** A conversation's answer to an announcement: not a member (any more), or a member with a view. */
export type AnnounceAnswer = { member: false } | { member: true; snapshot: WatchSnapshot | null };
