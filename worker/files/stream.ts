/**
 * The upload's bytes on their way from the request to R2, never held whole: a TransformStream that
 * passes each chunk on as it comes, and meanwhile counts the bytes (erroring the stream as soon as
 * they pass the limit, so the R2 write fails and stores nothing), keeps the first HEAD_BYTES for
 * sniff.ts, and feeds a SHA-256 digest.
 *
 * The digest is the runtime's own `crypto.DigestStream` (a Workers API: a WritableStream that
 * hashes what is written to it, incrementally): Web Crypto's `digest()` wants the whole input at
 * once, and R2's `sha256` put option only checks a digest known in advance.
 */
import { HEAD_BYTES } from "./sniff";

export class TooLarge extends Error {
  override readonly name = "TooLarge";
}

export interface Metered {
  /** The bytes, passed through. */
  readable: ReadableStream<Uint8Array>;
  /** Settles once the input ended: its size, first bytes and SHA-256 (hex); rejects with TooLarge past the limit. */
  done: Promise<{ size: number; head: Uint8Array; sha256: string }>;
}

const hex = (buf: ArrayBuffer) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

export function meter(body: ReadableStream<Uint8Array>, limit: number): Metered {
  const digest = new crypto.DigestStream("SHA-256");
  const hashing = digest.getWriter();
  // Rejects when the upload is aborted; `done` reports that instead.
  digest.digest.catch(() => {});
  const head = new Uint8Array(HEAD_BYTES);
  let headLength = 0;
  let size = 0;
  let settle!: { resolve: (v: { size: number; head: Uint8Array; sha256: string }) => void; reject: (e: unknown) => void };
  const done = new Promise<{ size: number; head: Uint8Array; sha256: string }>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Whoever awaits `done` learns of a failure; nobody has to.
  done.catch(() => {});
  const fail = (err: unknown) => {
    settle.reject(err);
    hashing.abort(err).catch(() => {});
  };
  const transform = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      size += chunk.byteLength;
      if (size > limit) {
        const err = new TooLarge(`over ${limit} bytes`);
        fail(err);
        throw err;
      }
      if (headLength < HEAD_BYTES) {
        const take = Math.min(HEAD_BYTES - headLength, chunk.byteLength);
        head.set(chunk.subarray(0, take), headLength);
        headLength += take;
      }
      await hashing.write(chunk);
      controller.enqueue(chunk);
    },
    async flush() {
      await hashing.close();
      settle.resolve({ size, head: head.slice(0, headLength), sha256: hex(await digest.digest) });
    },
  });
  // A request stream that fails (the client went away) never reaches flush: the R2 write then
  // fails too, and the caller, which awaits that write first, never waits on `done`.
  return { readable: body.pipeThrough(transform), done };
}
