/**
 * Fuzzing a live conversation socket: a few thousand random and mutated frames on a msgpack and
 * a JSON socket. What each frame should be is decided by the test alone, never by the code under
 * test: a plain decode (JSON.parse, @msgpack/msgpack's `decode` with no limits) and the contract's
 * own oracle in fuzz-frames.ts (`specFrame`, `withinDecoderLimits`, written apart from
 * protocol/guards.ts). Then:
 *   - each invalid frame gets an error (never `internal`) and changes no stored state (the raw SQL
 *     state is compared before and after every batch of them);
 *   - no valid frame is refused as malformed: the only errors they may get are the ones about the
 *     conversation's state (`not_found`, `forbidden`) or a rate (`rate_limited`);
 *   - a hand-written model of the log: every valid `send` with a new id and no `replyTo` is stored,
 *     once, under its id, and nothing else adds a message;
 *   - the socket stays open, the log stays gap-free, and a fresh member socket is still served.
 */
import { runInDurableObject } from "cloudflare:test";
import { decode as plainMsgpackDecode } from "@msgpack/msgpack";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK, type ClientFrame, type Subprotocol } from "../../protocol";
import { boundaryFrame, LIMITS, mutatedFrame, randomFrame, specFrame, wellFormed, withinDecoderLimits, type WireFrame } from "./fuzz-frames";
import { closeAll, convSql, convStub, join, room, setLimits, signup, storedState, type TestClient } from "./helpers";

const FRAMES_PER_SOCKET = 1_500;
const BATCH = 150;

type Verdict = { kind: "valid"; frame: ClientFrame } | { kind: "invalid" } | { kind: "skip" };

/** Values a plain decode may produce that the contract says nothing about (msgpack extensions, 64-bit integers). */
function outsideContract(v: unknown, depth = 0): boolean {
  if (depth > 64) return true;
  if (typeof v === "bigint" || v instanceof Date) return true;
  if (v instanceof Uint8Array || typeof v !== "object" || v === null) return false;
  if (!Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype) return true; // ExtData and the like
  return Object.values(v).some((c) => outsideContract(c, depth + 1));
}

/**
 * What the contract says a frame is, decided without the code under test: the socket's frame kind
 * (binary for msgpack, text for JSON), the frame size, a plain decode, the decoder limits and the
 * frame rules of PROTOCOL.md 3.1 as fuzz-frames.ts writes them.
 */
function expectation(protocol: Subprotocol, frame: WireFrame): Verdict {
  // The runtime answers "ping" itself; a frame over the size limit closes the socket (1009).
  if (frame.data === "ping") return { kind: "skip" };
  const binary = typeof frame.data !== "string";
  const size = typeof frame.data === "string" ? new TextEncoder().encode(frame.data).byteLength : frame.data.byteLength;
  if (size > LIMITS.frameBytes) return { kind: "skip" };
  if (binary !== (protocol === SUBPROTOCOL_MSGPACK) || size === 0) return { kind: "invalid" };
  let value: unknown;
  try {
    value = typeof frame.data === "string" ? JSON.parse(frame.data) : plainMsgpackDecode(frame.data);
  } catch {
    return { kind: "invalid" };
  }
  if (outsideContract(value)) return { kind: "skip" };
  if (!withinDecoderLimits(value, LIMITS)) return { kind: "invalid" };
  const parsed = specFrame(value, LIMITS);
  return parsed ? { kind: "valid", frame: parsed } : { kind: "invalid" };
}

/** Errors a frame the contract calls valid may still get: about the conversation, or a rate. */
const STATE_ERRORS = new Set(["not_found", "forbidden", "rate_limited"]);

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

async function fuzzSocket(protocol: Subprotocol, seed: number): Promise<{ valid: number; invalid: number; storedSends: number }> {
  const alice = await signup("fz");
  const bob = await signup("fzb");
  const conv = await room(alice, [bob]);
  // Lift the bad-frame limit (20 a minute) and the send rate on this instance for the run.
  await setLimits(conv.id, { badFramesPerMinute: 1_000_000_000, sendsPerSecond: 100_000, sendBurst: 100_000 });
  const a = await join(conv.id, alice, { protocol });
  a.send({ t: "send", id: "seed-1", body: "a message to edit, react to and reply to" });
  await a.next("ack", (f) => f.id === "seed-1");

  const frames = fc.sample(fc.oneof(randomFrame, mutatedFrame, boundaryFrame), { numRuns: FRAMES_PER_SOCKET, seed }).flat().slice(0, FRAMES_PER_SOCKET).map(asSent);
  const counts = { valid: 0, invalid: 0, storedSends: 0 };
  /** The model: the client ids stored for alice so far. */
  const storedIds = new Set(["seed-1"]);
  const aliceIds = async () =>
    new Set((await convSql(conv.id, "SELECT client_id FROM messages WHERE sender = ?", alice.username)).map((r) => String(r.client_id)));
  for (let i = 0; i < frames.length; i += BATCH) {
    const batch = frames.slice(i, i + BATCH).map((f) => ({ f, v: expectation(protocol, f) }));
    const invalid = batch.filter((x) => x.v.kind === "invalid");
    const valid = batch.filter((x) => x.v.kind === "valid");

    // Invalid frames first, alone: each one answered with an error, nothing stored changes.
    const state = await storedState(conv.id);
    const errorsBefore = a.of("error").length;
    for (const { f } of invalid) a.sendRaw(f.data);
    await barrier(a);
    expect(a.of("error").length - errorsBefore).toBe(invalid.length + 1);
    expect(await storedState(conv.id)).toBe(state);
    counts.invalid += invalid.length;

    // Then the valid ones: none refused as malformed, and the sends stored as the model says.
    const errorsBeforeValid = a.of("error").length;
    const messagesBefore = (await convSql(conv.id, "SELECT count(*) AS n FROM messages"))[0]!.n as number;
    for (const { f } of valid) a.sendRaw(f.data);
    await barrier(a);
    counts.valid += valid.length;
    const refused = a.of("error").slice(errorsBeforeValid).filter((e) => !(e.id ?? "").startsWith("barrier-") && !STATE_ERRORS.has(e.code));
    expect(refused, "valid frames refused").toEqual([]);
    const sends = valid.flatMap(({ v }) => (v.kind === "valid" && v.frame.t === "send" ? [v.frame] : []));
    const fresh = new Set(sends.filter((f) => !storedIds.has(f.id)).map((f) => f.id));
    const certain = new Set(sends.filter((f) => !storedIds.has(f.id) && f.replyTo === undefined).map((f) => f.id));
    const ids = await aliceIds();
    for (const id of certain) expect(ids.has(id), `valid send ${JSON.stringify(id)} stored`).toBe(true);
    const added = ((await convSql(conv.id, "SELECT count(*) AS n FROM messages"))[0]!.n as number) - messagesBefore;
    // A send with replyTo is stored only if its target exists: between the certain ones and all new ids.
    expect(added).toBeGreaterThanOrEqual(certain.size);
    expect(added).toBeLessThanOrEqual(fresh.size);
    for (const id of fresh) if (ids.has(id)) storedIds.add(id);
    counts.storedSends += added;
    expect(a.of("error").filter((e) => e.code === "internal")).toEqual([]);
    expect(a.closeCode).toBeNull();
  }

  // The object is up and serves a fresh member; the log is still gap-free.
  const b = await join(conv.id, bob, { protocol: SUBPROTOCOL_MSGPACK, since: 0 });
  b.send({ t: "send", id: "after-fuzz", body: "still here" });
  const ack = await b.next("ack", (f) => f.id === "after-fuzz");
  await a.next("msg", (m) => m.id === "after-fuzz");
  const seqs = (await convSql(conv.id, "SELECT seq FROM log ORDER BY seq")).map((r) => r.seq);
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
    it(`${protocol}: invalid frames change nothing, valid ones are served as the model says, the socket and object stay up`, async () => {
      const seed = Math.floor(Math.random() * 2 ** 31);
      const counts = await fuzzSocket(protocol, seed).catch((err: unknown) => {
        throw new Error(wellFormed(`seed ${seed}: ${err instanceof Error ? err.message : String(err)}`));
      });
      // Both kinds must be well represented, or the test proves little.
      expect(counts.invalid).toBeGreaterThan(FRAMES_PER_SOCKET / 3);
      expect(counts.valid).toBeGreaterThan(FRAMES_PER_SOCKET / 50);
      expect(counts.storedSends).toBeGreaterThan(0);
    }, 120_000);
  }
});
