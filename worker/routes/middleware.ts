import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";
import { authenticate } from "../auth/session";
import { unauthorized } from "../errors";

/** A download of a file (PROTOCOL.md 7.4): GET (or HEAD) of /api/conversations/:id/files/:fileId. */
const FILE_READ = /^\/api\/conversations\/[^/]+\/files\/[^/]+$/;

/**
 * Refuses the request with 401 unless it carries a live session; sets `caller`. File downloads are
 * taken from their own budget: a conversation full of images must not use up the one for the rest.
 */
export const requireCaller = createMiddleware<AppEnv>(async (c, next) => {
  const read = (c.req.method === "GET" || c.req.method === "HEAD") && FILE_READ.test(c.req.path);
  const caller = await authenticate(c.req.raw, c.env, read ? "files" : "http");
  if (!caller) throw unauthorized();
  c.set("caller", caller);
  await next();
});
