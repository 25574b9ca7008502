/**
 * PROTOCOL.md 7.1 and 7.2: the signed-in user's account (name, password, sessions, deletion) and
 * the people they block. The user's own object holds all of it and checks the password; the
 * routes read the request and answer.
 */
import { users, createApp } from "../app";
import { clearedCookies } from "../auth/session";
import { ApiError, invalid, notFound, tooMany } from "../errors";
import { addressLimits, usernameLimiter } from "../limiter";
import { requireCaller } from "./middleware";
import { mePushRoutes } from "./push";
import * as v from "../validate";

export const me = createApp();
me.use("*", requireCaller);
mePushRoutes(me);

/** A wrong password here counts toward the log-in lockout for the username (as a failed log-in). */
async function withPassword<T>(env: Env, username: string, attempt: () => Promise<T | null | false>): Promise<T> {
  const limits = addressLimits(env);
  const byName = usernameLimiter(env, username);
  const taken = await byName.stub.take(byName.kind, limits.username);
  if (!taken.ok) throw tooMany("too many failed attempts; try again later", Math.ceil(limits.username.windowMs / 1000));
  const result = await attempt();
  if (result === null || result === false) throw new ApiError(401, "unauthorized", "wrong password");
  await byName.stub.clear(byName.kind);
  return result;
}

/** `{name?, previews?}`, at least one; both are checked before either changes. */
me.patch("/", async (c) => {
  const caller = c.get("caller");
  const body = await v.jsonBody(c.req.raw);
  for (const k of Object.keys(body)) if (k !== "name" && k !== "previews") throw invalid(`unknown field ${JSON.stringify(k.slice(0, 32))}`);
  if (body.name === undefined && body.previews === undefined) throw invalid("give a name or previews");
  const name = body.name === undefined ? undefined : v.label(body.name, "name", 64);
  if (body.previews !== undefined && typeof body.previews !== "boolean") throw invalid("previews must be a boolean");
  const stub = users(c.env, caller.user.username);
  if (name !== undefined && !(await stub.rename(name))) throw new ApiError(401, "unauthorized", "not signed in");
  const user = typeof body.previews === "boolean" ? await stub.setPreviews(body.previews) : await stub.me();
  if (!user) throw new ApiError(401, "unauthorized", "not signed in");
  return c.json({ user });
});

me.post("/password", async (c) => {
  const caller = c.get("caller");
  const body = await v.jsonBody(c.req.raw);
  if (typeof body.current !== "string" || body.current.length > 200) throw new ApiError(401, "unauthorized", "wrong password");
  const password = v.password(body.password);
  const stub = users(c.env, caller.user.username);
  await withPassword(c.env, caller.user.username, () => stub.changePassword(body.current as string, password, caller.session));
  return c.body(null, 204);
});

me.get("/sessions", async (c) => {
  const caller = c.get("caller");
  return c.json({ sessions: await users(c.env, caller.user.username).sessions(caller.session) });
});

me.delete("/sessions/:id", async (c) => {
  const caller = c.get("caller");
  const id = c.req.param("id");
  if (!/^[0-9a-f]{1,64}$/.test(id) || !(await users(c.env, caller.user.username).revokePublic(id))) throw notFound("no such session");
  return c.body(null, 204);
});

me.delete("/sessions", async (c) => {
  const caller = c.get("caller");
  await users(c.env, caller.user.username).revokeOthers(caller.session);
  return c.body(null, 204);
});

me.delete("/", async (c) => {
  const caller = c.get("caller");
  const body = await v.jsonBody(c.req.raw);
  if (typeof body.password !== "string" || body.password.length > 200) throw new ApiError(401, "unauthorized", "wrong password");
  const stub = users(c.env, caller.user.username);
  await withPassword(c.env, caller.user.username, () => stub.erase(body.password as string));
  for (const cookie of clearedCookies(new URL(c.req.url))) c.header("Set-Cookie", cookie, { append: true });
  return c.body(null, 204);
});

// ---- blocking (7.2) ----------------------------------------------------------------------------

me.get("/blocks", async (c) => {
  return c.json({ blocked: await users(c.env, c.get("caller").user.username).blocked() });
});

me.put("/blocks/:username", async (c) => {
  const mine = c.get("caller").user.username;
  const username = v.username(c.req.param("username"));
  if (username === mine) throw new ApiError(400, "invalid", "you cannot block yourself");
  // A made-up name stores nothing: its object, asked for a profile it does not hold, erases itself.
  if (!(await users(c.env, username).profile())) throw notFound(`no user ${username}`);
  await users(c.env, mine).setBlock(username, true);
  return c.body(null, 204);
});

me.delete("/blocks/:username", async (c) => {
  await users(c.env, c.get("caller").user.username).setBlock(v.username(c.req.param("username")), false);
  return c.body(null, 204);
});
