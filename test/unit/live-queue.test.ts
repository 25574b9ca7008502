/**
 * The conversation's live queue (worker/conversation/live.ts): with a few sockets, frames leave as
 * soon as the event that made them is done, without a timer; with many, they wait for the end of
 * the turn and the frames of several events leave together, one websocket message per socket.
 * Order is kept either way.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, SUBPROTOCOL_JSON, createCodec, type ServerFrame } from "../../protocol";
import { FEW_SOCKETS, LIVE_BATCH, LiveQueue } from "../../worker/conversation/live";
import { CODEC_TAGS, Codecs } from "../../worker/sockets";

/** `count` JSON sockets that record what they were sent, behind a state that only answers getWebSockets. */
function fakeObject(count: number) {
  const sent: string[][] = Array.from({ length: count }, () => []);
  const sockets = sent.map((into) => ({ send: (data: string) => void into.push(data) }) as unknown as WebSocket);
  const ctx = { getWebSockets: (tag?: string) => (tag === undefined || tag === CODEC_TAGS.j ? sockets : []) } as unknown as DurableObjectState;
  const codec = createCodec(SUBPROTOCOL_JSON, DEFAULT_LIMITS);
  /** The seqs of each websocket message the first socket got, in order (the others got the same). */
  const messages = () => {
    for (const other of sent) expect(other).toEqual(sent[0]);
    return sent[0]!.map((d) => codec.decodeAll(d).map((f) => (f as { seq: number }).seq));
  };
  return { queue: new LiveQueue(ctx, new Codecs(DEFAULT_LIMITS)), messages };
}

const msg = (seq: number): ServerFrame => ({ t: "msg", seq, id: `m${seq}`, from: "ann", body: "hi", ts: 0 });
const endOfEvent = () => Promise.resolve();
const endOfTurn = () => new Promise((r) => setTimeout(r, 0));

describe("the live queue", () => {
  it("with a few sockets, sends the frames at the end of the event, together, without a timer", async () => {
    const { queue, messages } = fakeObject(FEW_SOCKETS);
    queue.broadcast([msg(1)]);
    queue.broadcast([msg(2)]);
    expect(messages()).toEqual([]);
    await endOfEvent();
    expect(messages()).toEqual([[1, 2]]);
    queue.broadcast([msg(3)]);
    await endOfEvent();
    expect(messages()).toEqual([[1, 2], [3]]);
  });

  it("with many sockets, holds the frames of several events until the end of the turn: one message", async () => {
    const { queue, messages } = fakeObject(FEW_SOCKETS + 1);
    queue.broadcast([msg(1)]);
    await endOfEvent();
    queue.broadcast([msg(2)]);
    await endOfEvent();
    queue.broadcast([msg(3)]);
    await endOfEvent();
    expect(messages()).toEqual([]);
    await endOfTurn();
    expect(messages()).toEqual([[1, 2, 3]]);
  });

  it("sends a full batch at once, and what is queued before frames for all but one user", async () => {
    const { queue, messages } = fakeObject(FEW_SOCKETS + 1);
    queue.broadcast(Array.from({ length: LIVE_BATCH }, (_, i) => msg(i + 1)));
    expect(messages()).toHaveLength(1);
    queue.broadcast([msg(LIVE_BATCH + 1)]);
    queue.broadcast([msg(LIVE_BATCH + 2)], "bob");
    expect(messages().slice(1)).toEqual([[LIVE_BATCH + 1], [LIVE_BATCH + 2]]);
    await endOfTurn();
    expect(messages()).toHaveLength(3);
  });
});
