/** PROTOCOL.md section 2: the conversation list, DMs and rooms, joining, history and search. */
import type { User } from "../../protocol";
import { conversations as convStub, createApp, users } from "../app";
import { ApiError, forbidden, invalid, notFound } from "../errors";
import { directory } from "../directory";
import { dmId, roomId } from "../ids";
import type { JoinResult } from "../conversation";
import { requireCaller } from "./middleware";
import * as v from "../validate";

export const conversations = createApp();
conversations.use("*", requireCaller);

function convId(id: string): string {
  if (!v.isConversationId(id)) throw notFound("no such conversation");
  return id;
}

async function existingUser(env: Env, username: string): Promise<User> {
  const user = await users(env, username).profile();
  if (!user) throw notFound(`no user ${username}`);
  return user;
}

function joinFailure(result: Extract<JoinResult, { ok: false }>): never {
  if (result.reason === "not_found") throw notFound("no such conversation");
  if (result.reason === "full") throw new ApiError(403, "full", "this room is full");
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
    const peer = await existingUser(c.env, v.username(body.with, "with"));
    if (peer.username === me.username) throw invalid("a DM needs someone else");
    const id = await dmId(me.username, peer.username);
    const existed = (await users(c.env, me.username).summary(id)) !== null;
    const entries = await convStub(c.env, id).create({ id, kind: "dm", title: "", private: true, members: [me, peer] });
    const [mine, theirs] = entries;
    await users(c.env, peer.username).addConversation(theirs!);
    const summary = await users(c.env, me.username).addConversation(mine!);
    return c.json({ conversation: summary }, existed ? 200 : 201);
  }
  if (body.kind === "room") {
    const title = v.label(body.title, "title", 100);
    if (body.private !== undefined && typeof body.private !== "boolean") throw invalid("private must be a boolean");
    const id = roomId();
    const isPrivate = body.private === true;
    const [mine] = await convStub(c.env, id).create({ id, kind: "room", title, private: isPrivate, members: [me] });
    const summary = await users(c.env, me.username).addConversation(mine!);
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
  const result = await convStub(c.env, id).join(me);
  if (!result.ok) joinFailure(result);
  const summary = await users(c.env, me.username).addConversation(result.entry);
  return c.json({ conversation: summary }, 200);
});

conversations.post("/:id/leave", async (c) => {
  const me = c.get("caller").user;
  const id = convId(c.req.param("id"));
  const left = await convStub(c.env, id).leave(me.username);
  if (!left) throw notFound("not a member of such a room");
  await users(c.env, me.username).removeConversation(id);
  return c.body(null, 204);
});

conversations.post("/:id/members", async (c) => {
  const me = c.get("caller").user;
  const id = convId(c.req.param("id"));
  const body = await v.jsonBody(c.req.raw);
  const invitee = await existingUser(c.env, v.username(body.username));
  const result = await convStub(c.env, id).invite(me.username, invitee);
  if (!result.ok) joinFailure(result);
  await users(c.env, invitee.username).addConversation(result.entry);
  return c.json({ member: invitee, added: result.added }, 200);
});

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
  const page = await convStub(c.env, id).history(me.username, before, limit);
  if (!page) await accessOrThrow(c.env, id, me.username);
  return c.json(page ?? { messages: [], more: false });
});

conversations.get("/:id/search", async (c) => {
  const me = c.get("caller").user;
  const id = convId(c.req.param("id"));
  const q = c.req.query("q") ?? "";
  if (q.trim().length === 0 || q.length > 200) throw invalid("q must be 1-200 characters");
  const messages = await convStub(c.env, id).search(me.username, q);
  if (!messages) await accessOrThrow(c.env, id, me.username);
  return c.json({ messages: messages ?? [] });
});
