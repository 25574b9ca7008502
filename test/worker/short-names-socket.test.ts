/**
 * `chat.v1.msgpack.short` end to end: the server picks it when offered, writes short names on the
 * wire, reads a client's short names, and a room mixing it with the other codecs delivers the same
 * events to everyone.
 */
import { decodeMulti, encode } from "@msgpack/msgpack";
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK, SUBPROTOCOL_MSGPACK_SHORT, type MsgFrame } from "../../protocol";
import { BASE, closeAll, eventSeqs, join, room, signup } from "./helpers";

describe("chat.v1.msgpack.short", () => {
  it("is chosen when offered beside the others, and its frames carry one-character names", async () => {
    const alice = await signup("sk");
    const conv = await room(alice);
    const res = await SELF.fetch(`${BASE}/chat/${conv.id}`, {
      headers: {
        Upgrade: "websocket",
        Authorization: `Bearer ${alice.token}`,
        "Sec-WebSocket-Protocol": `${SUBPROTOCOL_JSON}, ${SUBPROTOCOL_MSGPACK}, ${SUBPROTOCOL_MSGPACK_SHORT}`,
      },
    });
    expect(res.status).toBe(101);
    expect(res.headers.get("Sec-WebSocket-Protocol")).toBe(SUBPROTOCOL_MSGPACK_SHORT);
    const ws = res.webSocket!;
    (ws as WebSocket & { binaryType: string }).binaryType = "arraybuffer";
    const raw: Record<string, unknown>[] = [];
    let wake = () => {};
    ws.addEventListener("message", (ev) => {
      for (const v of decodeMulti(new Uint8Array(ev.data as ArrayBuffer))) raw.push(v as Record<string, unknown>);
      wake();
    });
    ws.accept();
    const until = async (pred: () => boolean) => {
      for (let i = 0; i < 200 && !pred(); i++) await new Promise<void>((r) => { wake = r; setTimeout(r, 50); });
      expect(pred()).toBe(true);
    };
    // welcome ("W"), then synced ("Y") with lastSeq ("L").
    await until(() => raw.some((f) => f.t === "Y"));
    expect(raw[0]).toMatchObject({ t: "W", m: alice.username });

    // A send written with short names: t "s", id "i", body "b".
    ws.send(encode({ t: "s", i: "short-1", b: "hello in short" }));
    await until(() => raw.some((f) => f.t === "m"));
    const ack = raw.find((f) => f.t === "a");
    const msg = raw.find((f) => f.t === "m");
    expect(ack).toMatchObject({ i: "short-1", s: msg?.s });
    expect(msg).toMatchObject({ i: "short-1", f: alice.username, b: "hello in short" });
    expect(Object.keys(msg!).every((k) => k.length === 1)).toBe(true);
    ws.close(1000, "bye");
  });

  it("delivers the same events, in the same order, to short, plain msgpack and JSON sockets", async () => {
    const [a, b, c] = [await signup("sa"), await signup("sb"), await signup("sc")];
    const conv = await room(a, [b, c]);
    const sockets = [
      await join(conv.id, a, { since: 0, protocol: SUBPROTOCOL_MSGPACK_SHORT }),
      await join(conv.id, b, { since: 0, protocol: SUBPROTOCOL_MSGPACK }),
      await join(conv.id, c, { since: 0, protocol: SUBPROTOCOL_JSON }),
    ];
    expect(sockets.map((s) => s.protocol)).toEqual([SUBPROTOCOL_MSGPACK_SHORT, SUBPROTOCOL_MSGPACK, SUBPROTOCOL_JSON]);
    for (let i = 0; i < 30; i++) sockets[i % 3]!.send({ t: "send", id: `x${i}`, body: `message ${i}` });
    await Promise.all(sockets.map((s) => s.until((fs) => fs.filter((f) => f.t === "msg").length === 30, 20_000)));
    const seen = sockets.map((s) => s.frames.filter((f): f is MsgFrame => f.t === "msg").map((f) => [f.seq, f.id, f.from, f.body]));
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[2]).toEqual(seen[0]);
    expect(eventSeqs(sockets[0]!.frames)).toEqual(eventSeqs(sockets[2]!.frames));
    await closeAll(...sockets);
  });
});
