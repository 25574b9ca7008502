/**
 * PROTOCOL.md 7.4: files and images on R2.
 *
 * Upload: the caller's own list is asked first (a made-up id reaches no conversation object and
 * stores nothing), then the conversation's membership, then the daily quota is reserved in the
 * caller's object for the declared size; only then are bytes read, streamed from the request into
 * R2 through meter() (size limit, first bytes, SHA-256), and the file recorded in the
 * conversation's object. Any failure on the way deletes what was written and releases the quota.
 *
 * Download: members only, with the safety headers of 7.4: the five image types, when the file's
 * own bytes are one, are served as themselves; everything else as an octet-stream attachment.
 */
import type { Hono } from "hono";
import type { FileRef } from "../../protocol";
import { conversations as convStub, users, type AppEnv } from "../app";
import { limitsFromEnv } from "../config";
import type { Access } from "../conversation";
import type { FileRecord } from "../conversation/files";
import { ApiError, errorBody, forbidden, invalid, notFound, tooMany } from "../errors";
import {
  contentDisposition,
  declaredType,
  FILE_SAFETY_HEADERS,
  fileName,
  isServedImage,
  noneMatch,
  OCTET_STREAM,
  parseRange,
} from "../files/http";
import { sniffImage } from "../files/sniff";
import { meter, TooLarge } from "../files/stream";
import * as v from "../validate";

async function listed(env: Env, username: string, id: string): Promise<void> {
  if (!v.isConversationId(id) || (await users(env, username).summary(id)) === null) throw notFound("no such conversation");
}

function accessOrThrow(access: Access): void {
  if (access === "not_found") throw notFound("no such conversation");
  if (access === "forbidden") throw forbidden("not a member of this conversation");
}

/** The request's declared length: null when absent or malformed. */
function declaredLength(request: Request): number | null {
  const raw = request.headers.get("Content-Length");
  if (raw === null || !/^\d{1,15}$/.test(raw.trim())) return null;
  return Number(raw.trim());
}

function newFileId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function refOf(f: FileRecord): FileRef {
  const ref: FileRef = { id: f.id, name: f.name, type: f.type, size: f.size };
  if (f.width !== undefined && f.height !== undefined) {
    ref.width = f.width;
    ref.height = f.height;
  }
  return ref;
}

const FILE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function fileRoutes(app: Hono<AppEnv>): void {
  app.post("/:id/files", async (c) => {
    const me = c.get("caller").user.username;
    const id = c.req.param("id");
    const limits = limitsFromEnv(c.env);
    await listed(c.env, me, id);
    const length = declaredLength(c.req.raw);
    // Uploads must say their size: R2 takes a stream of known length, and the quota is reserved
    // from it before a byte is read (browsers always send it for a Blob or File body).
    if (length === null) return c.json(errorBody("invalid", "an upload needs a Content-Length"), 411);
    if (length > limits.fileBytes) throw new ApiError(413, "too_large", `a file is at most ${limits.fileBytes} bytes`);
    if (length === 0) throw invalid("the file is empty");
    const name = fileName(c.req.header("x-file-name") ?? null);
    if (name === null) throw invalid("x-file-name must be a URI-encoded name");
    const conv = convStub(c.env, id);
    accessOrThrow(await conv.access(me));
    const bucket = c.env.FILES;
    if (!bucket) throw new ApiError(503, "config", "file uploads are not configured (no R2 bucket)");

    const fileId = newFileId();
    const key = `${id}/${fileId}`;
    const mine = users(c.env, me);
    const quota = await mine.reserveFileBytes(fileId, length, limits.fileBytesPerDay);
    if (!quota.ok) throw tooMany(`you may upload ${limits.fileBytesPerDay} bytes a day`, quota.retryAfterSec);

    let written = false;
    let pipeError: unknown = null;
    try {
      const metered = meter(c.req.raw.body ?? new Blob([]).stream(), limits.fileBytes);
      // R2 stores a stream of known length: the metered bytes go through a FixedLengthStream,
      // which also fails if the body turns out longer or shorter than it said.
      const fixed = new FixedLengthStream(length);
      const piped = metered.readable.pipeTo(fixed.writable).catch((err: unknown) => {
        pipeError = err;
      });
      try {
        await bucket.put(key, fixed.readable);
      } finally {
        await piped;
      }
      written = true;
      const { size, head, sha256 } = await metered.done;
      const sniffed = sniffImage(head);
      const file: FileRecord = {
        id: fileId, r2Key: key, owner: me, name, size, sha256, created: Date.now(), seq: null,
        type: sniffed?.type ?? declaredType(c.req.header("content-type") ?? null),
      };
      if (sniffed?.width !== undefined && sniffed.height !== undefined) {
        file.width = sniffed.width;
        file.height = sniffed.height;
      }
      accessOrThrow(await conv.addFile(me, file));
      await mine.settleFileBytes(fileId, size);
      return c.json({ file: refOf(file) }, 201);
    } catch (err) {
      if (written) await bucket.delete(key).catch(() => {});
      await mine.settleFileBytes(fileId, null).catch(() => {});
      if (err instanceof ApiError) throw err;
      if (pipeError instanceof TooLarge) throw new ApiError(413, "too_large", `a file is at most ${limits.fileBytes} bytes`);
      if (pipeError !== null) throw invalid("the upload ended early or did not match its Content-Length");
      throw err;
    }
  });

  app.get("/:id/files/:fileId", async (c) => {
    const me = c.get("caller").user.username;
    const id = c.req.param("id");
    const fileId = c.req.param("fileId");
    await listed(c.env, me, id);
    if (!FILE_ID.test(fileId)) throw notFound("no such file");
    const { access, file } = await convStub(c.env, id).fileFor(me, fileId);
    accessOrThrow(access);
    if (!file) throw notFound("no such file");

    const headers = new Headers(FILE_SAFETY_HEADERS);
    const etag = `"${file.sha256}"`;
    headers.set("ETag", etag);
    headers.set("Accept-Ranges", "bytes");
    // Only bytes that are one of the five images are served as one; nothing is ever served as
    // HTML, script or SVG, whatever was declared.
    const image = isServedImage(file.type);
    headers.set("Content-Type", image ? file.type : OCTET_STREAM);
    headers.set("Content-Disposition", contentDisposition(image ? "inline" : "attachment", file.name));
    if (noneMatch(c.req.header("If-None-Match") ?? null, etag)) return new Response(null, { status: 304, headers });

    const range = parseRange(c.req.header("Range") ?? null, file.size);
    if (range === "unsatisfiable") {
      headers.set("Content-Range", `bytes */${file.size}`);
      headers.set("Content-Type", "application/json");
      headers.delete("Content-Disposition");
      return new Response(JSON.stringify(errorBody("invalid", "range not satisfiable")), { status: 416, headers });
    }
    const bucket = c.env.FILES;
    const object = bucket ? await bucket.get(file.r2Key, range ? { range } : undefined) : null;
    if (!object) throw notFound("no such file");
    if (range) {
      headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${file.size}`);
      headers.set("Content-Length", String(range.length));
      return new Response(object.body, { status: 206, headers });
    }
    headers.set("Content-Length", String(file.size));
    return new Response(object.body, { status: 200, headers });
  });
}
