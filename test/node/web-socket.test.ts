/** The reconnecting socket: when it comes back, when it does not, the heartbeat, and batches. */
import { decode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { ReconnectingSocket } from "../../web/src/lib/socket";
import { FakeSocket, ManualTimers, msg } from "./web-fixtures";

function setup(schedule = (n: number) => 1000 * 2 ** n) {
  const sockets: FakeSocket[] = [];
  const timers = new ManualTimers();
  const received: unknown[][] = [];
  const finals: number[] = [];
  let since = 0;
  const socket = new ReconnectingSocket({
    url: () => `ws://test/chat/c1?since=${since}`,
    onFrames: (v) => received.push(v),
    onFinal: (code) => finals.push(code),
    heartbeatMs: 30_000,
    schedule,
    timers,
    create: (url, protocols) => {
      const s = new FakeSocket(url, protocols);
      sockets.push(s);
      return s;
    },
  });
  return { socket, sockets, timers, received, finals, setSince: (n: number) => { since = n; } };
}

describe("reconnecting socket", () => {
  it("offers short names first and speaks whichever codec the server answered", () => {
    const t = setup();
    t.socket.start();
    const first = t.sockets[0]!;
    expect(first.protocols).toEqual(["chat.v1.msgpack.short", "chat.v1.msgpack"]);
    first.open("chat.v1.msgpack.short");
    expect(t.socket.send({ t: "read", seq: 3 })).toBe(true);
    expect(decode(first.sent[0] as Uint8Array)).toEqual({ t: "r", s: 3 });
    first.deliver(msg(1));
    expect(t.received.at(-1)).toEqual([msg(1)]);

    // A server that answers no subprotocol speaks plain msgpack.
    first.drop(1006);
    t.timers.advance(1000);
    const second = t.sockets[1]!;
    second.open("");
    expect(t.socket.send({ t: "read", seq: 4 })).toBe(true);
    expect(decode(second.sent[0] as Uint8Array)).toEqual({ t: "read", seq: 4 });
    second.deliver(msg(2));
    expect(t.received.at(-1)).toEqual([msg(2)]);
  });

  it("reconnects on an abnormal close, after the scheduled delay, with the latest since", () => {
    const t = setup();
    t.socket.start();
    t.sockets[0]!.open();
    expect(t.sockets[0]!.binaryType).toBe("arraybuffer");
    t.setSince(12);
    t.sockets[0]!.drop(1006);
    expect(t.socket.state).toBe("waiting");
    t.timers.advance(999);
    expect(t.sockets).toHaveLength(1);
    t.timers.advance(1);
    expect(t.sockets).toHaveLength(2);
    expect(t.sockets[1]!.url).toBe("ws://test/chat/c1?since=12");
    // A failed attempt waits longer; a working connection starts the schedule over.
    t.sockets[1]!.drop(1006);
    expect(t.timers.pending()).toEqual([2000]);
    t.timers.advance(2000);
    t.sockets[2]!.open();
    t.sockets[2]!.deliver({ t: "synced", lastSeq: 12, more: false });
    t.sockets[2]!.drop(1011);
    expect(t.timers.pending()).toEqual([1000]);
  });

  it.each([4401, 4403, 4404])("stays closed after %i", (code) => {
    const t = setup();
    t.socket.start();
    t.sockets[0]!.open();
    t.sockets[0]!.drop(code);
    expect(t.socket.state).toBe("closed");
    expect(t.finals).toEqual([code]);
    t.timers.advance(10 * 60_000);
    expect(t.sockets).toHaveLength(1);
  });

  it("reconnects after 4429 (too many sockets) and 1009", () => {
    for (const code of [4429, 1009, 1000]) {
      const t = setup();
      t.socket.start();
      t.sockets[0]!.drop(code);
      t.timers.advance(1000);
      expect(t.sockets).toHaveLength(2);
    }
  });

  it("pings every interval and reconnects when two pings go unanswered", () => {
    const t = setup();
    t.socket.start();
    const ws = t.sockets[0]!;
    ws.open();
    t.timers.advance(30_000);
    expect(ws.sent).toEqual(["ping"]);
    ws.text("pong");
    t.timers.advance(30_000);
    t.timers.advance(30_000);
    expect(ws.sent).toEqual(["ping", "ping", "ping"]);
    expect(ws.closedWith).toBeNull();
    t.timers.advance(30_000); // two intervals without a pong
    expect(ws.closedWith).toBe(4000);
    t.timers.advance(1000);
    expect(t.sockets).toHaveLength(2);
  });

  it("hands over every frame of a batched message, in order, and skips broken ones", () => {
    const t = setup();
    t.socket.start();
    t.sockets[0]!.open();
    t.sockets[0]!.deliver(msg(1), msg(2), msg(3));
    expect(t.received).toHaveLength(1);
    expect(t.received[0]!.map((f) => (f as { seq: number }).seq)).toEqual([1, 2, 3]);
    t.sockets[0]!.onmessage?.(new MessageEvent("message", { data: new Uint8Array([0xc1]).buffer }));
    expect(t.received).toHaveLength(1);
    expect(t.socket.state).toBe("open");
  });

  it("refuses to send while not open, and pauses without retrying while offline", () => {
    const t = setup();
    t.socket.start();
    expect(t.socket.send({ t: "typing" })).toBe(false);
    t.sockets[0]!.open();
    expect(t.socket.send({ t: "typing" })).toBe(true);
    t.socket.pause();
    expect(t.socket.state).toBe("paused");
    t.timers.advance(10 * 60_000);
    expect(t.sockets).toHaveLength(1);
    t.socket.resume();
    expect(t.sockets).toHaveLength(2);
  });

  it("says when the server has answered on the open connection, and forgets it when the connection goes", () => {
    const states: [string, boolean][] = [];
    const sockets: FakeSocket[] = [];
    const timers = new ManualTimers();
    const socket = new ReconnectingSocket({
      url: () => "ws://test/inbox",
      onFrames: () => {},
      onState: (state, answered) => states.push([state, answered]),
      schedule: () => 1000,
      timers,
      create: (url, protocols) => {
        const s = new FakeSocket(url, protocols);
        sockets.push(s);
        return s;
      },
    });
    socket.start();
    sockets[0]!.open();
    // Open, and nothing heard yet: a connection that never answers stays here.
    expect(states).toEqual([["connecting", false], ["open", false]]);
    sockets[0]!.deliver(msg(1));
    sockets[0]!.deliver(msg(2));
    expect(states.at(-1)).toEqual(["open", true]);
    expect(states).toHaveLength(3);
    sockets[0]!.drop(1006);
    timers.advance(1000);
    sockets[1]!.open();
    expect(states.slice(3)).toEqual([["waiting", false], ["connecting", false], ["open", false]]);
  });
});
