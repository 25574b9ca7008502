/** What conversation objects and user objects tell each other. */
import type { ConversationKind, Message } from "../../protocol";

export interface ActivityItem {
  seq: number;
  from: string;
  preview: string;
  ts: number;
  /** Deleted before this batch was made: never counted as unread. */
  deleted?: boolean;
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
  lastSeq: number;
  readSeq: number;
  unread: number;
  last?: Message;
}

/** A conversation's answer when a member starts watching (opens their first inbox). */
export interface WatchSnapshot {
  /** Who is online there (empty for rooms too large to fan presence out). */
  online: string[];
  /** The conversation as that member sees it now: counts exact as of its lastSeq. */
  entry: IndexEntry;
}
