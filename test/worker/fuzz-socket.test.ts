/**
 * Fuzzing a live conversation socket: a few thousand random and mutated frames on a msgpack and
 * a JSON socket. Each invalid frame gets an error (never `internal`) and changes no stored state
 * (the SQL state is compared before and after every batch of them); valid frames go through; the
 * socket stays open, the log stays gap-free, and a fresh member socket is still served.
 */
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createCodec, parseClientFrame, SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK, type Subprotocol } from "../../protocol";
import { LIMITS, mutatedFrame, randomFrame, wellFormed, type WireFrame } from "./fuzz-frames";
import { closeAll, convSql, convStub, join, room, setLimits, signup, storedState, type TestClient } from "./helpers";

const FRAMES_PER_SOCKET = 1_500;
const BATCH = 150;

type Verdict = "valid" | "invalid" | "skip";

/** What the object will make of a frame, by the same decoder and guards, to group them. */
function verdict(protocol: Subprotocol, frame: WireFrame): Verdict {
  // The runtime answers "ping" itself; a frame over the size limit closes the socket (1009).
  if (frame.data === "ping") return "skip";
  const decoded = createCodec(protocol, LIMITS).decodeOne(frame.data);
  if (!decoded.ok) return decoded.code === "too_large" ? "skip" : "invalid";
  return parseClientFrame(decoded.value, LIMITS).ok ? "valid" : "invalid";
}

let barriers = 0;

/**
 * Waits until every frame sent so far was handled: a `send` with an empty body is refused with an
 * error that names its id, and changes nothing (valid frames may answer with anything, even
 * `history`, so only such a named answer marks the point).
 */
async function barrier(c: TestClient): Promise<void> {
  const id = `barrier-${++barriers}-${Math.random().toString(36).slice(2)}`;
  c.send({ t: "send", id, body: " " });
  await c.next("error", (e) => e.id === id);
}

/** What the wire carries of a text frame: lone surrogates become U+FFFD in UTF-8. */
function asSent(frame: WireFrame): WireFrame {
  return typeof frame.data === "string" ? { data: new TextDecoder().decode(new TextEncoder().encode(frame.data)) } : frame;
}

async function fuzzSocket(protocol: Subprotocol, seed: number): Promise<{ valid: number; invalid: number }> {
  const alice = await signup("fz");
  const bob = await signup("fzb");
  const conv = await room(alice, [bob]);
  // Lift the bad-frame limit (20 a minute) and the send rate on this instance for the run.
  await setLimits(conv.id, { badFramesPerMinute: 1_000_000_000, sendsPerSecond: 100_000, sendBurst: 100_000 });
  const a = await join(conv.id, alice, { protocol });
  a.send({ t: "send", id: "seed-1", body: "a message to edit, react to and reply to" });
  await a.next("ack", (f) => f.id === "seed-1");

  const frames = fc.sample(fc.oneof(randomFrame, mutatedFrame), { numRuns: FRAMES_PER_SOCKET, seed }).flat().slice(0, FRAMES_PER_SOCKET).map(asSent);
  const counts = { valid: 0, invalid: 0 };
  for (let i = 0; i < frames.length; i += BATCH) {
    const batch = frames.slice(i, i + BATCH).map((f) => ({ f, v: verdict(protocol, f) }));
    const invalid = batch.filter((x) => x.v === "invalid");
    const valid = batch.filter((x) => x.v === "valid");

    // Invalid frames first, alone: each one answered with an error, nothing stored changes.
    const state = await storedState(conv.id);
    const errorsBefore = a.of("error").length;
    for (const { f } of invalid) a.sendRaw(f.data);
    await barrier(a);
    expect(a.of("error").length - errorsBefore).toBe(invalid.length + 1);
    expect(await storedState(conv.id)).toBe(state);
    counts.invalid += invalid.length;

    // Then the valid ones: they may change state, but never fail inside the object.
    for (const { f } of valid) a.sendRaw(f.data);
    await barrier(a);
    counts.valid += valid.length;
    expect(a.of("error").filter((e) => e.code === "internal")).toEqual([]);
    expect(a.closeCode).toBeNull();
  }

  // The object is up and serves a fresh member; the log is still gap-free.
  const b = await join(conv.id, bob, { protocol: SUBPROTOCOL_MSGPACK, since: 0 });
  b.send({ t: "send", id: "after-fuzz", body: "still here" });
  const ack = await b.next("ack", (f) => f.id === "after-fuzz");
  await a.next("msg", (m) => m.id === "after-fuzz");
  const seqs = (await convSql(conv.id, "SELECT seq FROM events ORDER BY seq")).map((r) => r.seq);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  expect(ack.seq).toBe(seqs.length);
  expect(a.closeCode).toBeNull();
  await closeAll(a, b);
  // Let the notifications the valid frames set off finish inside this test, not at teardown.
  await runInDurableObject(convStub(conv.id), (instance) => instance.notifier.settle());
  return counts;
}

describe("fuzzing a live conversation socket", () => {
  for (const protocol of [SUBPROTOCOL_MSGPACK, SUBPROTOCOL_JSON] satisfies Subprotocol[]) {
    it(`${protocol}: invalid frames change nothing, the socket and object stay up`, async () => {
      const seed = Math.floor(Math.random() * 2 ** 31);
      const counts = await fuzzSocket(protocol, seed).catch((err: unknown) => {
        throw new Error(wellFormed(`seed ${seed}: ${err instanceof Error ? err.message : String(err)}`));
      });
      // Both kinds must be well represented, or the test proves little.
      expect(counts.invalid).toBeGreaterThan(FRAMES_PER_SOCKET / 3);
      expect(counts.valid).toBeGreaterThan(FRAMES_PER_SOCKET / 50);
    }, 120_000);
  }
});
