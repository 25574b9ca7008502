/**
 * Group commit for `send`. Every commit of a Durable Object's SQLite is a durable write (an fsync
 * under `wrangler dev`, a replicated write at the edge), and the ack of each message waits for its
 * own. So a checked send does not insert at once: it waits for the end of the turn, and every send
 * that arrived meanwhile, on any socket, is inserted with it in one transaction, one commit for the
 * lot. Under load the runtime delivers several sends before a timer fires (20 DMs with 5 sends in
 * flight each: about twice the bare object's messages per second, which commits once a message);
 * a lone send waits for nothing but its timer.
 *
 * Nothing is acked before its commit (the output gate holds the acks until the write is durable),
 * so a send lost with the object (a crash, an eviction between the check and the timer) was never
 * acked and the client sends it again. A seq is given when the message is inserted, not when it
 * was checked: events written meanwhile (an edit, a reaction) come first in the log, as if they
 * had arrived first, which no client can tell apart; a sender who left meanwhile is refused then
 * (frames.ts checks membership again, in memory). Messages with files are not batched:
 * attaching can fail for one message, and must not fail the others with it (frames.ts flushes the
 * batch first, then inserts them alone).
 */
import type { ClientFrame } from "../../protocol";
import type { Attachment } from "../sockets";

export type SendFrame = Extract<ClientFrame, { t: "send" }>;

/** A send that passed every check, waiting for its batch's transaction. */
export interface PendingSend {
  ws: WebSocket;
  a: Attachment;
  frame: SendFrame;
  now: number;
}

/** At most this many sends wait; the next one flushes the batch at once. */
export const SEND_BATCH_MAX = 100;

export class SendBatch {
  #pending: PendingSend[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;

  /** `write`: stores a batch in one transaction and answers each send (frames.ts). */
  constructor(private readonly write: (batch: PendingSend[]) => void) {}

  add(send: PendingSend): void {
    this.#pending.push(send);
    if (this.#pending.length >= SEND_BATCH_MAX) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), 0);
  }

  /** Stores what waits, now (a send that must not wait, or the timer). */
  flush(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.write(batch);
  }
}
