/**
 * The tick of one of my own messages, from what the client knows:
 * sending (typed, no ack yet) -> sent (acked: durably stored) -> delivered (acked while another
 * member was online, or someone's read mark reached it) -> read (a member's receipt covers it);
 * failed (the server refused its id) -> retry -> sending again.
 */
import type { Member } from "../../../protocol";

export type Tick = "sending" | "sent" | "delivered" | "read" | "failed";

export interface TickInput {
  /** The message's seq once acked (or seen in the log); undefined while unacknowledged. */
  seq?: number;
  failed?: boolean;
}

export function tickOf(m: TickInput, me: string, members: readonly Member[], deliveredSeq: number): Tick {
  if (m.seq === undefined) return m.failed ? "failed" : "sending";
  let delivered = deliveredSeq >= m.seq;
  for (const other of members) {
    if (other.username === me) continue;
    if (other.readSeq >= m.seq) return "read";
    if (other.online) delivered = true;
  }
  return delivered ? "delivered" : "sent";
}
