/**
 * The Worker: the HTTP API under /api, the sockets (/chat/:id, /inbox), and the Durable Object
 * classes. Static assets (the web app) are served before the Worker is reached.
 */
import { createApp } from "./app";
import { ApiError, errorBody } from "./errors";
import { accounts } from "./routes/accounts";
import { conversations } from "./routes/conversations";
import { me } from "./routes/me";
import { requestGuard } from "./routes/guard";
import { chatSocket, inboxSocket } from "./routes/sockets";
import { pushKey } from "./routes/push";
import { HSTS, SECURITY_HEADERS } from "./security-headers";

export { ConversationObject } from "./conversation";
export { UserObject } from "./user";
export { AddressLimiter } from "./limiter";
export { RoomDirectory } from "./directory";
export { PushKeyStore } from "./push/keys";

const app = createApp();

app.use("*", async (c, next) => {
  await next();
  // A 101 response carries a socket; its headers are not ours to add to.
  if (c.res.status === 101) return;
  // A route's own value stands (files are served with a stricter policy: routes/files.ts).
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!c.res.headers.has(k)) c.res.headers.set(k, v);
  // Over https only: a browser that saw it refuses plain http to this host from then on, which
  // would lock out `wrangler dev` on 127.0.0.1 if it were sent there.
  if (new URL(c.req.url).protocol === "https:") c.res.headers.set("Strict-Transport-Security", HSTS);
  if (c.req.path.startsWith("/api/") && !c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "no-store");
});

app.use("/api/*", requestGuard);
app.route("/api", accounts);
app.route("/api/me", me);
app.route("/api/push", pushKey);
app.route("/api/conversations", conversations);
app.get("/chat/:id", (c) => chatSocket(c.req.raw, c.env, c.req.param("id")));
app.get("/inbox", (c) => inboxSocket(c.req.raw, c.env));

app.notFound((c) => c.json(errorBody("not_found", "no such route"), 404));

app.onError((err, c) => {
  if (err instanceof ApiError) {
    if (err.retryAfterSec !== undefined) c.header("Retry-After", String(err.retryAfterSec));
    return c.json(errorBody(err.code, err.message), err.status);
  }
  // Only the kind of error is logged: messages may quote user input.
  console.error("unhandled error", err instanceof Error ? err.name : typeof err);
  return c.json(errorBody("internal", "internal error"), 500);
});

export default app;
