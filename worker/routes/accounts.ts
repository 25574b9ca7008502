/** PROTOCOL.md section 1: sign-up, log-in, log-out and `me`. */
import { signToken } from "../auth/token";
import { authenticate, clearedCookie, sessionCookie, sessionSecret } from "../auth/session";
import { createApp, users } from "../app";
import { ApiError } from "../errors";
import { addressLimits, limiterFor } from "../limiter";
import { requireCaller } from "./middleware";

const tooMany = (message: string) => new ApiError(429, "rate_limited", message);
import * as v from "../validate";

export const accounts = createApp();

accounts.post("/signup", async (c) => {
  const body = await v.jsonBody(c.req.raw);
  const username = v.username(body.username);
  const password = v.password(body.password);
  const name = v.optionalLabel(body.name, "name", 64) ?? username;
  const secret = sessionSecret(c.env, new URL(c.req.url));
  const limiter = limiterFor(c.env, c.req.raw);
  if (limiter && !(await limiter.allowed("signup", addressLimits(c.env).signup))) throw tooMany("too many sign-ups from this address; try again later");
  const stub = users(c.env, username);
  const result = await stub.signup(username, password, name);
  if (!result.ok) throw new ApiError(409, "taken", "that username is taken");
  await limiter?.record("signup");
  const { session, expires } = await stub.createSession();
  const token = await signToken({ username, session, expires }, secret);
  c.header("Set-Cookie", sessionCookie(token, expires, new URL(c.req.url)));
  return c.json({ user: result.user, token }, 201);
});

accounts.post("/login", async (c) => {
  const body = await v.jsonBody(c.req.raw);
  // One answer for a wrong username and a wrong password, whatever was wrong with them.
  const wrong = () => new ApiError(401, "unauthorized", "wrong username or password");
  if (typeof body.username !== "string" || typeof body.password !== "string") throw wrong();
  const username = body.username.trim().toLowerCase();
  if (!v.USERNAME.test(username) || body.password.length > 200) throw wrong();
  const secret = sessionSecret(c.env, new URL(c.req.url));
  const limiter = limiterFor(c.env, c.req.raw);
  if (limiter && !(await limiter.allowed("login", addressLimits(c.env).login))) throw tooMany("too many failed attempts; try again later");
  const result = await users(c.env, username).login(body.password);
  if (!result.ok) {
    if (result.reason === "rate_limited") throw tooMany("too many failed attempts; try again later");
    await limiter?.record("login");
    throw wrong();
  }
  const token = await signToken({ username, session: result.session, expires: result.expires }, secret);
  c.header("Set-Cookie", sessionCookie(token, result.expires, new URL(c.req.url)));
  return c.json({ user: result.user, token }, 200);
});

accounts.post("/logout", async (c) => {
  const caller = await authenticate(c.req.raw, c.env);
  if (caller) await users(c.env, caller.user.username).revokeSession(caller.session);
  c.header("Set-Cookie", clearedCookie(new URL(c.req.url)));
  return c.body(null, 204);
});

accounts.get("/me", requireCaller, (c) => c.json({ user: c.get("caller").user }));


