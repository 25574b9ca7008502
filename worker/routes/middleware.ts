import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";
import { authenticate } from "../auth/session";
import { unauthorized } from "../errors";

/** Refuses the request with 401 unless it carries a live session; sets `caller`. */
export const requireCaller = createMiddleware<AppEnv>(async (c, next) => {
  const caller = await authenticate(c.req.raw, c.env);
  if (!caller) throw unauthorized();
  c.set("caller", caller);
  await next();
});
