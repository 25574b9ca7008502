/** PROTOCOL.md section 1: sign-up, log-in, log-out and `me`. */
import { signToken } from "../auth/token";
import { authenticate, clearedCookies, sessionCookie, sessionSecret } from "../auth/session";
import { createApp, users } from "../app";
import { ApiError, tooMany } from "../errors";
import { addressLimits, limiterFor, usernameLimiter } from "../limiter";
import { requireCaller } from "./middleware";
import * as v from "../validate";

export const accounts = createApp();

accounts.post("/signup", async (c) => {
  const body = await v.jsonBody(c.req.raw);
  const username = v.username(body.username);
  const password = v.password(body.password);
  const name = v.optionalLabel(body.name, "name", 64) ?? username;
  const secret = sessionSecret(c.env, new URL(c.req.url));
  // Taken before the attempt, in the same call as the check: parallel sign-ups cannot all pass.
  const limiter = limiterFor(c.env, c.req.raw);
  const taken = limiter ? await limiter.take("signup", addressLimits(c.env).signup) : null;
  if (taken && !taken.ok) throw tooMany("too many sign-ups from this address; try again later", taken.retryAfterSec);
  const stub = users(c.env, username);
  const result = await stub.signup(username, password, name);
  if (!result.ok) {
    // Only accounts made count against the address.
    if (taken?.ok) await limiter?.giveBack(taken.id);
    throw new ApiError(409, "taken", "that username is taken");
  }
  const { session, expires } = await stub.createSession(c.req.header("User-Agent") ?? undefined);
  const token = await signToken({ username, session, expires }, secret);
  c.header("Set-Cookie", sessionCookie(token, expires, new URL(c.req.url)));
  return c.json({ user: result.user, token }, 201);
});

/** One answer for every failed log-in, whatever was wrong: the username, the password or both. */
const wrongLogin = () => new ApiError(401, "unauthorized", "wrong username or password");
/**
 * One answer for every locked log-in: the same for a real and a made-up username, an address and
 * a username. Retry-After is the whole window, not the time left, which would differ by timing.
 */
const lockedLogin = (env: Env) =>
  tooMany("too many failed attempts; try again later", Math.ceil(addressLimits(env).username.windowMs / 1000));

accounts.post("/login", async (c) => {
  const body = await v.jsonBody(c.req.raw);
  if (typeof body.username !== "string" || typeof body.password !== "string") throw wrongLogin();
  const username = body.username.trim().toLowerCase();
  if (!v.USERNAME.test(username) || body.password.length > 200) throw wrongLogin();
  const secret = sessionSecret(c.env, new URL(c.req.url));
  const limits = addressLimits(c.env);
  // Each attempt is counted as a failure before it is made, and given back if it succeeds: N
  // attempts at once never get past what N in a row would. The per-username count lives in a
  // limiter shard, never in the user's object, so a made-up name is counted like a real one.
  const address = limiterFor(c.env, c.req.raw);
  const byAddress = address ? await address.take("login", limits.login) : null;
  if (byAddress && !byAddress.ok) throw lockedLogin(c.env);
  const byName = usernameLimiter(c.env, username);
  const byUsername = await byName.stub.take(byName.kind, limits.username);
  if (!byUsername.ok) {
    // Refused without a password check: not an attempt, so not the address's failure either.
    if (byAddress?.ok) await address?.giveBack(byAddress.id);
    throw lockedLogin(c.env);
  }
  const result = await users(c.env, username).login(body.password, c.req.header("User-Agent") ?? undefined);
  if (!result.ok) throw wrongLogin();
  // A success clears the username's failures (as before) and gives the address its attempt back.
  await byName.stub.clear(byName.kind);
  if (byAddress?.ok) await address?.giveBack(byAddress.id);
  const token = await signToken({ username, session: result.session, expires: result.expires }, secret);
  c.header("Set-Cookie", sessionCookie(token, result.expires, new URL(c.req.url)));
  return c.json({ user: result.user, token }, 200);
});

accounts.post("/logout", async (c) => {
  // Not counted against the HTTP budget: signing out must always work.
  const caller = await authenticate(c.req.raw, c.env, false);
  if (caller) await users(c.env, caller.user.username).revokeSession(caller.session);
  for (const cookie of clearedCookies(new URL(c.req.url))) c.header("Set-Cookie", cookie, { append: true });
  return c.body(null, 204);
});

accounts.get("/me", requireCaller, async (c) => {
  // The caller's own settings (7.6 `previews`) come with it: one more call to their object.
  const user = await users(c.env, c.get("caller").user.username).me();
  if (!user) throw new ApiError(401, "unauthorized", "not signed in");
  return c.json({ user });
});
