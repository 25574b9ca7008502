/** Row shapes and column lists shared by the store and its readers. */
import type { Role } from "../../protocol";

type Row = Record<string, SqlStorageValue>;

/** A role as stored; anything unknown reads as a plain member. */
export const asRole = (v: string): Role => (v === "owner" || v === "admin" ? v : "member");

export const MESSAGE_COLUMNS = "seq, client_id, sender, body, ts, reply_to, edited, deleted";

export interface MessageRow extends Row {
  seq: number;
  client_id: string;
  sender: string;
  body: string;
  ts: number;
  reply_to: number | null;
  edited: number;
  deleted: number;
}
