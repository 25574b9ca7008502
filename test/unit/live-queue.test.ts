/**
 * The conversation's live queue (worker/conversation/live.ts): a quiet conversation's frames leave
 * as soon as the event that made them is done, without a timer; a busy one's wait for the end of
 * the turn and leave together, one websocket message per socket; order is kept either way.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, SUBPROTOCOL_JSON, createCodec, type ServerFrame } from "../../protocol";
import { LIVE_BATCH, LiveQueue } from "../../worker/conversation/live";
import { CODEC_TAGS, Codecs } from "../../worker/sockets";

/** One JSON socket that records what it was sent, behind a state that only answers getWebSockets. */
function fakeObject() {
  const sent: string[] = [];
  const ws = { send: (data: string) => void sent.push(data) } as unknown as WebSocket;
  const ctx = { getWebSockets: (tag?: string) => (tag === CODEC_TAGS.j ? [ws] : []) } as unknown as DurableObjectState;
  const codec = createCodec(SUBPROTOCOL_JSON, DEFAULT_LIMITS);
  /** The frames of each websocket message, in order. */
  const messages = () => sent.map((d) => codec.decodeAll(d).map((f) => (f as { seq: number }).seq));
  return { queue: new LiveQueue(ctx, new Codecs(DEFAULT_LIMITS)), messages };
}

const msg = (seq: number): ServerFrame => ({ t: "msg", seq, id: `m${seq}`, from: "ann", body: "hi", ts: 0 });
const endOfEvent = () => Promise.resolve();
const endOfTurn = () => new Promise((r) => setTimeout(r, 0));
/** Lets the clock pass the busy gap (workerd's clock moves on I/O; a timer is one). */
const pause = () => new Promise((r) => setTimeout(r, 20));

describe("the live queue", () => {
  it("sends a quiet conversation's frames at the end of the event, together, without a timer", async () => {
    const { queue, messages } = fakeObject();
    queue.broadcast([msg(1)]);
    queue.broadcast([msg(2)]);
    expect(messages()).toEqual([]);
    await endOfEvent();
    expect(messages()).toEqual([[1, 2]]);
  });

  it("holds a busy conversation's frames until the end of the turn: several events, one message", async () => {
    const { queue, messages } = fakeObject();
    queue.broadcast([msg(1)]);
    await endOfEvent();
    // Sends in quick succession: each waits for the timer, and they leave together, in order.
    queue.broadcast([msg(2)]);
    await endOfEvent();
    queue.broadcast([msg(3)]);
    await endOfEvent();
    expect(messages()).toEqual([[1]]);
    await endOfTurn();
    expect(messages()).toEqual([[1], [2, 3]]);
    // Quiet again: back to the end of the event.
    await pause();
    queue.broadcast([msg(4)]);
    await endOfEvent();
    expect(messages()).toEqual([[1], [2, 3], [4]]);
  });

  it("sends a full batch at once, and what is queued before frames for all but one user", async () => {
    const { queue, messages } = fakeObject();
    queue.broadcast(Array.from({ length: LIVE_BATCH }, (_, i) => msg(i + 1)));
    expect(messages()).toHaveLength(1);
    queue.broadcast([msg(LIVE_BATCH + 1)]);
    queue.broadcast([msg(LIVE_BATCH + 2)], "bob");
    expect(messages().slice(1)).toEqual([[LIVE_BATCH + 1], [LIVE_BATCH + 2]]);
    await endOfTurn();
    expect(messages()).toHaveLength(3);
  });
});
