/**
 * The gate in front of every state-changing API request (POST, PUT, PATCH, DELETE under /api).
 * `SameSite=Lax` alone leaves a browser's cookie exposed to same-site pages and to old browsers,
 * so a browser's request must come from the app's own origin or one on ALLOWED_ORIGINS (403), and
 * a body must be JSON (415): a cross-site HTML form can send neither, whatever the cookie rules.
 * Requests without `Origin` (curl, bots with bearer tokens) are not browsers' and pass.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";
import { ApiError, forbidden } from "../errors";
import { originAllowed } from "./sockets";

const STATE_CHANGING: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Routes whose body is raw bytes with their own type (PROTOCOL.md 7.4 file uploads), not JSON. */
const RAW_BODY_ROUTES: readonly RegExp[] = [/^\/api\/conversations\/[^/]+\/files$/];

/** `application/json`, with or without parameters such as `; charset=utf-8`. */
export function isJsonType(contentType: string): boolean {
  return contentType.split(";")[0]!.trim().toLowerCase() === "application/json";
}

/** Whether the request carries a body at all (an empty POST, e.g. logout or join, has none). */
function hasBody(request: Request): boolean {
  const length = request.headers.get("Content-Length");
  if (length !== null) return length.trim() !== "0";
  return request.body !== null;
}

export const requestGuard = createMiddleware<AppEnv>(async (c, next) => {
  const request = c.req.raw;
  if (!STATE_CHANGING.has(request.method)) return next();
  if (!originAllowed(request, c.env)) throw forbidden("requests from this origin are not allowed");
  if (!RAW_BODY_ROUTES.some((r) => r.test(c.req.path))) {
    const type = request.headers.get("Content-Type");
    // A declared type must be JSON even without a body: HTML forms always declare theirs.
    if ((type !== null && !isJsonType(type)) || (type === null && hasBody(request))) {
      throw new ApiError(415, "invalid", "the body must be application/json");
    }
  }
  return next();
});
