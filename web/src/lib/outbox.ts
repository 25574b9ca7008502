/**
 * Messages not yet acknowledged, kept in IndexedDB so they survive a reload. Each keeps the client
 * id it was given when typed: every resend uses it, so the server stores it once (PROTOCOL.md 4.4).
 * An entry leaves the outbox only when its `ack` arrives.
 *
 * A message with files keeps their bytes here (IndexedDB stores Blobs) until each is uploaded,
 * and then the server's record of it: uploads chosen offline go when the network is back, and a
 * reload in between loses nothing. Only then is the message sent, with its own id as always.
 */
import type { QueuedFile } from "./files";
import { database, type Transact } from "./idb";

export interface OutboxEntry {
  /** The client message id, also the key. */
  id: string;
  /** Whose message: one browser may be used by several accounts. */
  user: string;
  conv: string;
  body: string;
  replyTo?: number;
  files?: QueuedFile[];
  /** When it was typed (ms): the order of resending. */
  created: number;
  /** The server refused it (an error code): wait for the person to retry. */
  failed?: string;
}

function isEntry(v: unknown): v is OutboxEntry {
  if (typeof v !== "object" || v === null) return false;
  const e: Partial<Record<keyof OutboxEntry, unknown>> = v;
  return typeof e.id === "string" && typeof e.user === "string" && typeof e.conv === "string" &&
    typeof e.body === "string" && typeof e.created === "number" && (e.files === undefined || Array.isArray(e.files));
}

export class Outbox {
  readonly #tx: Transact;

  constructor(factory?: IDBFactory) {
    this.#tx = database("edge-chat", (db) => db.createObjectStore("outbox", { keyPath: "id" }).createIndex("user", "user"), factory);
  }

  /** Stored before it is sent: a reload between typing and the ack loses nothing. */
  async put(entry: OutboxEntry): Promise<void> {
    await this.#tx("readwrite", (store) => store.put(entry));
  }

  async remove(id: string): Promise<void> {
    await this.#tx("readwrite", (store) => store.delete(id));
  }

  /** One user's entries, oldest first. */
  async list(user: string): Promise<OutboxEntry[]> {
    const all: unknown[] = await this.#tx("readonly", (store) => store.index("user").getAll(user));
    return all.filter(isEntry).sort((a, b) => a.created - b.created);
  }
}
