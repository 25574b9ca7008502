/** PROTOCOL.md section 2: the conversation list, DMs and rooms, joining, history and search. */
import { conversations as convStub, createApp, users } from "../app";
import { limitsFromEnv } from "../config";
import { ApiError, forbidden, full, invalid, notFound, tooMany } from "../errors";
import { directory } from "../directory";
import { dmId, roomId } from "../ids";
import type { JoinResult } from "../conversation";
import type { User } from "../../protocol";
import { requireCaller } from "./middleware";
import { inviteToken, roomRoutes } from "./rooms";
import { fileRoutes } from "./files";
import * as v from "../validate";

export const conversations = createApp();
conversations.use("*", requireCaller);

function convId(id: string): string {
  if (!v.isConversationId(id)) throw notFound("no such conversation");
  return id;
}

/** Shortest search query: the trigram index finds nothing shorter, and a scan costs too much. */
export const SEARCH_MIN_CHARS = 3;

/** A user who exists (asked about a made-up name, the user's object erases itself). */
async function existingUser(env: Env, username: string): Promise<User> {
  const user = await users(env, username).profile();
  if (!user) throw notFound(`no user ${username}`);
  return user;
}

/**
 * The cap on conversations per user (PROTOCOL.md 7.5): holds a place for `id` in `username`'s
 * list, or refuses once they are in the most allowed; one they are in already always passes. The
 * place is held in the same call that checks, so parallel requests cannot all pass the cap.
 */
async function placeFor(env: Env, username: string, id: string, whose: string): Promise<void> {
  if (await users(env, username).reserveConversation(id, limitsFromEnv(env).conversationsPerUser)) return;
  throw full(`${whose} in too many conversations; leave one first`);
}

function joinFailure(result: Extract<JoinResult, { ok: false }>): never {
  if (result.reason === "not_found") throw notFound("no such conversation");
  if (result.reason === "full") throw full("this room is full");
  if (result.reason === "banned") throw new ApiError(403, "banned", "you are banned from this room");
  throw forbidden("this room is private: ask a member to add you");
}

conversations.get("/", async (c) => {
  const list = await users(c.env, c.get("caller").user.username).summaries();
  return c.json({ conversations: list });
});

conversations.post("/", async (c) => {
  const me = c.get("caller").user;
  const body = await v.jsonBody(c.req.raw);
  if (body.kind === "dm") {
    const withName = v.username(body.with, "with");
    if (withName === me.username) throw invalid("a DM needs someone else");
    const peer = await existingUser(c.env, withName);
    // 7.2: someone who blocks me cannot be reached by a new DM (an existing one refuses my sends).
    if (await users(c.env, peer.username).isBlocking(me.username)) throw new ApiError(403, "blocked", `${peer.username} does not accept messages from you`);
    const id = await dmId(me.username, peer.username);
    await placeFor(c.env, me.username, id, "you are");
    await placeFor(c.env, peer.username, id, "they are");
    const existed = (await users(c.env, me.username).summary(id)) !== null;
    // The conversation puts itself in both lists (and retries until both have it).
    const [summary] = await convStub(c.env, id).create({ id, kind: "dm", title: "", private: true, members: [me, peer] });
    // If I block them (and start a DM anyway), the new DM learns it, as an existing one would.
    if (!existed) await users(c.env, me.username).dmMade(id, peer.username);
    return c.json({ conversation: summary }, existed ? 200 : 201);
  }
  if (body.kind === "room") {
    const title = v.label(body.title, "title", 100);
    if (body.private !== undefined && typeof body.private !== "boolean") throw invalid("private must be a boolean");
    const limits = limitsFromEnv(c.env);
    const id = roomId();
    // Taken before the room exists, in one call that also holds its place under the cap.
    const reserved = await users(c.env, me.username).reserveRoom(id, limits.roomsPerDay, limits.conversationsPerUser);
    if (!reserved.ok && reserved.reason === "full") throw full("you are in too many conversations; leave one first");
    if (!reserved.ok) throw tooMany(`you may create ${limits.roomsPerDay} rooms a day`, reserved.retryAfterSec);
    const isPrivate = body.private === true;
    const [summary] = await convStub(c.env, id).create({ id, kind: "room", title, private: isPrivate, members: [me] });
    if (!isPrivate) await directory(c.env).add({ id, title, created: Date.now() });
    return c.json({ conversation: summary }, 201);
  }
  throw invalid('kind must be "dm" or "room"');
});

/** Extension: public rooms to browse, newest first, optionally filtered by title. */
conversations.get("/public", async (c) => {
  const q = c.req.query("q") ?? "";
  if (q.length > 100) throw invalid("q must be at most 100 characters");
  return c.json({ rooms: await directory(c.env).list(q.trim()) });
});

conversations.post("/:id/join", async (c) => {
  const me = c.get("caller").user;
  const id = convId(c.req.param("id"));
  // v1.1 (issue 14): `{invite}`, an invite link's token, opens a private room. No body: as before.
  const body = c.req.header("content-length") === "0" || !c.req.raw.body ? {} : await v.jsonBody(c.req.raw);
  const token = body.invite === undefined ? null : inviteToken(body.invite);
  await placeFor(c.env, me.username, id, "you are");
  const stub = convStub(c.env, id);
  const result = token === null ? await stub.join(me) : await stub.joinByInvite(me, token);
  if (!result.ok && token !== null && result.reason === "forbidden") throw forbidden("this invite link has expired, was revoked, or is not for this room");
  if (!result.ok) joinFailure(result);
  return c.json({ conversation: result.summary }, 200);
});

conversations.post("/:id/leave", async (c) => {
  const me = c.get("caller").user;
  const id = convId(c.req.param("id"));
  // The conversation tells my list itself, now and until it has heard (a failed call is retried).
  const left = await convStub(c.env, id).leave(me.username);
  if (!left) throw notFound("not a member of such a room");
  return c.body(null, 204);
});

conversations.post("/:id/members", async (c) => {
  const me = c.get("caller").user;
  const id = convId(c.req.param("id"));
  const body = await v.jsonBody(c.req.raw);
  await listedOrThrow(c.env, me.username, id);
  const invitee = await existingUser(c.env, v.username(body.username));
  if (await users(c.env, invitee.username).isBlocking(me.username)) throw new ApiError(403, "blocked", `${invitee.username} does not accept invitations from you`);
  await placeFor(c.env, invitee.username, id, "they are");
  const result = await convStub(c.env, id).invite(me.username, invitee);
  if (!result.ok && result.reason === "forbidden") throw forbidden("only admins and the owner add people to a private room (and nobody to a DM)");
  if (!result.ok && result.reason === "banned") throw new ApiError(403, "banned", `${invitee.username} is banned from this room`);
  if (!result.ok) joinFailure(result);
  return c.json({ member: invitee, added: result.added }, 200);
});

/**
 * Member-only routes ask the caller's own object first (its index lists every conversation they
 * are in), so an id that does not exist, or is not theirs, never reaches a conversation object:
 * a made-up id then creates no storage, and a non-member learns nothing, not even that the
 * conversation exists (404 either way).
 */
async function listedOrThrow(env: Env, username: string, id: string): Promise<void> {
  if ((await users(env, username).summary(id)) === null) throw notFound("no such conversation");
}

async function accessOrThrow(env: Env, id: string, username: string): Promise<void> {
  const access = await convStub(env, id).access(username);
  if (access === "not_found") throw notFound("no such conversation");
  if (access === "forbidden") throw forbidden("not a member of this conversation");
}

conversations.get("/:id/messages", async (c) => {
  const me = c.get("caller").user;
  const id = convId(c.req.param("id"));
  const before = v.positiveInt(c.req.query("before"), "before");
  const limit = v.positiveInt(c.req.query("limit"), "limit") ?? 50;
  await listedOrThrow(c.env, me.username, id);
  const page = await convStub(c.env, id).history(me.username, before, limit);
  if (!page) await accessOrThrow(c.env, id, me.username);
  return c.json(page ?? { messages: [], more: false });
});

conversations.get("/:id/search", async (c) => {
  const me = c.get("caller").user;
  const id = convId(c.req.param("id"));
  const q = c.req.query("q") ?? "";
  const chars = [...q.trim()].length;
  if (chars < SEARCH_MIN_CHARS || q.length > 200) throw invalid(`q must be ${SEARCH_MIN_CHARS}-200 characters`);
  await listedOrThrow(c.env, me.username, id);
  const found = await convStub(c.env, id).find(me.username, q);
  if (!found) await accessOrThrow(c.env, id, me.username);
  if (found && !found.ok) throw invalid(`q must be ${SEARCH_MIN_CHARS}-200 characters`);
  return c.json({ messages: found?.ok ? found.messages : [] });
});

/** 7.6: my own settings for a conversation of mine (members only): `{muted: boolean}`. */
conversations.patch("/:id/settings", async (c) => {
  const me = c.get("caller").user;
  const id = convId(c.req.param("id"));
  const body = await v.jsonBody(c.req.raw);
  for (const k of Object.keys(body)) if (k !== "muted") throw invalid(`unknown field ${JSON.stringify(k.slice(0, 32))}`);
  if (typeof body.muted !== "boolean") throw invalid("muted must be a boolean");
  const summary = await users(c.env, me.username).setMuted(id, body.muted);
  if (!summary) throw notFound("no such conversation");
  return c.json({ conversation: summary });
});

roomRoutes(conversations);
fileRoutes(conversations);
