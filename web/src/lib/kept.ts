/**
 * What the app keeps so that it starts without a network and shows what it last had: who was
 * signed in ("me"), the conversation list ([user, "l"]) and the recent part of each conversation it
 * opened ([user, "c", id]). Its own IndexedDB database beside the outbox's: adding a store to that
 * one would need a version upgrade, which a tab of the previous version still open would block (and
 * with it the outbox). Signing out erases the user's part: the next person at a shared computer
 * must not read it.
 */
import type { Member } from "../../../protocol";
import type { Item } from "../models/conversation";
import { database } from "./idb";

/** A conversation as its model held it once event `applied` was in: its socket resumes from there. */
export interface KeptConv {
  id: string;
  applied: number;
  items: Item[];
  members: Member[];
  /** When it was kept (ms): beyond MAX_KEPT conversations, the least recent are dropped. */
  at: number;
}

export const MAX_KEPT = 50;

const tx = database("edge-chat-kept", (db) => db.createObjectStore("kept"));

export const keep = (key: IDBValidKey, value: unknown) => tx("readwrite", (s) => s.put(value, key));
export const drop = (key: IDBValidKey | IDBKeyRange) => tx("readwrite", (s) => s.delete(key));
export const kept = <T>(key: IDBValidKey) => tx<T | undefined>("readonly", (s) => s.get(key));

/** The user's kept conversations, the most recently kept first; the others are dropped. */
export async function keptConversations(user: string): Promise<KeptConv[]> {
  const all = (await tx<KeptConv[]>("readonly", (s) => s.getAll(IDBKeyRange.bound([user, "c"], [user, "c", []])))).sort((a, b) => b.at - a.at);
  for (const k of all.slice(MAX_KEPT)) void drop([user, "c", k.id]);
  return all.slice(0, MAX_KEPT);
}

/** Everything of this user, and who was signed in. */
export const forget = (user: string) => tx("readwrite", (s) => {
  s.delete("me");
  return s.delete(IDBKeyRange.bound([user], [user, []]));
});
