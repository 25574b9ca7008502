/**
 * meter() (worker/files/stream.ts) in the Workers runtime: the bytes pass through unchanged while
 * they are counted, hashed (the runtime's DigestStream) and their first bytes kept; one byte past the
 * limit errors the stream, so a write to R2 fed by it fails and stores nothing.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { HEAD_BYTES } from "../../worker/files/sniff";
import { meter, TooLarge } from "../../worker/files/stream";
import { pattern } from "./files-helpers";

/** A stream of `bytes` in chunks of `chunk` bytes, made as it is read. */
function chunked(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

const hex = async (b: Uint8Array) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", b))].map((x) => x.toString(16).padStart(2, "0")).join("");

describe("meter", () => {
  it("passes exactly the limit through unchanged, with its size, first bytes and SHA-256", async () => {
    const bytes = pattern(HEAD_BYTES + 50_000);
    const m = meter(chunked(bytes, 7_919), bytes.length);
    const out = new Uint8Array(await new Response(m.readable).arrayBuffer());
    expect(out).toEqual(bytes);
    const done = await m.done;
    expect(done.size).toBe(bytes.length);
    expect(done.head).toEqual(bytes.slice(0, HEAD_BYTES));
    expect(done.sha256).toBe(await hex(bytes));
  });

  it("errors one byte past the limit, and an R2 write fed by it stores nothing", async () => {
    const limit = 100_000;
    const bytes = pattern(limit + 1);
    const m = meter(chunked(bytes, 4_096), limit);
    const fixed = new FixedLengthStream(bytes.length);
    const piped = m.readable.pipeTo(fixed.writable).catch((e: unknown) => e);
    await expect(env.FILES.put("meter-test/over", fixed.readable)).rejects.toThrow();
    expect(await piped).toBeInstanceOf(TooLarge);
    await expect(m.done).rejects.toBeInstanceOf(TooLarge);
    expect(await env.FILES.head("meter-test/over")).toBeNull();
  });

  it("keeps only the first bytes of a short file as its head", async () => {
    const m = meter(chunked(pattern(10), 3), 100);
    await new Response(m.readable).arrayBuffer();
    expect((await m.done).head).toEqual(pattern(10));
  });
});
