/**
 * PROTOCOL.md 7.3: rooms with roles and moderation. The routes read and check the request; every
 * permission is checked by the conversation object (worker/conversation/roles.ts), which owns the
 * roles. A caller who is not a member gets 404, as on every member-only route: the caller's own
 * list is asked first (listed), so a made-up id never reaches a conversation object and a
 * non-member learns nothing; a member without the role gets 403.
 */
import type { Hono } from "hono";
import { ROLES, type Role } from "../../protocol";
import { conversations as convStub, users, type AppEnv } from "../app";
import type { InviteAnswer, InviteOp, ModAction, ModAnswer, RoomPatch } from "../conversation";
import { INVITE_DAYS_DEFAULT, INVITE_DAYS_MAX } from "../conversation/invites";
import { directory } from "../directory";
import { ApiError, forbidden, full, invalid, notFound } from "../errors";
import * as v from "../validate";

/** Longest room topic, in characters. */
export const TOPIC_MAX = 500;

async function listed(env: Env, username: string, id: string): Promise<void> {
  if (!v.isConversationId(id) || (await users(env, username).summary(id)) === null) throw notFound("no such conversation");
}

async function moderate(env: Env, me: string, id: string, action: ModAction): Promise<Extract<ModAnswer, { ok: true }>> {
  await listed(env, me, id);
  const answer = await convStub(env, id).moderate(me, action);
  if (answer.ok) return answer;
  if (answer.reason === "not_found") throw notFound(answer.message);
  if (answer.reason === "banned") throw new ApiError(403, "banned", answer.message);
  if (answer.reason === "invalid") throw invalid(answer.message);
  throw forbidden(answer.message);
}

/** Invite links (issue 14): the conversation object checks who may manage them. */
async function invites(env: Env, me: string, id: string, action: InviteOp): Promise<Extract<InviteAnswer, { ok: true }>> {
  await listed(env, me, id);
  const answer = await convStub(env, id).manageInvites(me, action);
  if (answer.ok) return answer;
  if (answer.reason === "not_found") throw notFound(answer.message);
  if (answer.reason === "invalid") throw invalid(answer.message);
  if (answer.reason === "full") throw full(answer.message);
  throw forbidden(answer.message);
}

/** An invite link's token as it is made (invites.ts): 24 of A-Z a-z 0-9 _ -. */
export function inviteToken(value: unknown): string {
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]{24}$/.test(value)) throw invalid("invite must be an invite link's token");
  return value;
}

/** A username that names an account (a made-up one stores nothing: its object erases itself). */
async function account(env: Env, raw: string): Promise<string> {
  const username = v.username(raw);
  if (!(await users(env, username).profile())) throw notFound(`no user ${username}`);
  return username;
}

function patchOf(body: Record<string, unknown>): RoomPatch {
  const patch: RoomPatch = {};
  if (body.title !== undefined) patch.title = v.label(body.title, "title", 100);
  if (body.topic !== undefined) {
    if (typeof body.topic !== "string" || body.topic.trim().length > TOPIC_MAX || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(body.topic)) {
      throw invalid(`topic must be 0-${TOPIC_MAX} characters`);
    }
    patch.topic = body.topic.trim();
  }
  if (body.private !== undefined) {
    if (typeof body.private !== "boolean") throw invalid("private must be a boolean");
    patch.private = body.private;
  }
  if (Object.keys(patch).length === 0) throw invalid("give title, topic or private");
  return patch;
}

function isRole(value: unknown): value is Role {
  return ROLES.some((r) => r === value);
}

/** Adds the routes to the conversations app (which already requires a signed-in caller). */
export function roomRoutes(app: Hono<AppEnv>): void {
  app.get("/:id/members", async (c) => {
    const me = c.get("caller").user.username;
    const id = c.req.param("id");
    await listed(c.env, me, id);
    const members = await convStub(c.env, id).membersOf(me);
    if (!members) throw notFound("no such conversation");
    return c.json({ members });
  });

  app.patch("/:id", async (c) => {
    const me = c.get("caller").user.username;
    const id = c.req.param("id");
    const patch = patchOf(await v.jsonBody(c.req.raw));
    const answer = await moderate(c.env, me, id, { op: "update", patch });
    // The directory lists public rooms only, under their current title.
    if (answer.private === true) await directory(c.env).remove(id);
    else if (answer.title !== undefined) await directory(c.env).add({ id, title: answer.title, created: Date.now() });
    return c.json({ conversation: answer.summary });
  });

  app.put("/:id/members/:username/role", async (c) => {
    const me = c.get("caller").user.username;
    const body = await v.jsonBody(c.req.raw);
    if (!isRole(body.role)) throw invalid('role must be "admin", "member" or "owner"');
    await moderate(c.env, me, c.req.param("id"), { op: "role", username: v.username(c.req.param("username")), role: body.role });
    return c.json({ username: v.username(c.req.param("username")), role: body.role });
  });

  app.delete("/:id/members/:username", async (c) => {
    const me = c.get("caller").user.username;
    await moderate(c.env, me, c.req.param("id"), { op: "remove", username: v.username(c.req.param("username")) });
    return c.body(null, 204);
  });

  app.put("/:id/bans/:username", async (c) => {
    const me = c.get("caller").user.username;
    const id = c.req.param("id");
    await listed(c.env, me, id);
    await moderate(c.env, me, id, { op: "ban", username: await account(c.env, c.req.param("username")) });
    return c.body(null, 204);
  });

  app.delete("/:id/bans/:username", async (c) => {
    const me = c.get("caller").user.username;
    await moderate(c.env, me, c.req.param("id"), { op: "unban", username: v.username(c.req.param("username")) });
    return c.body(null, 204);
  });

  app.get("/:id/bans", async (c) => {
    const me = c.get("caller").user.username;
    const answer = await moderate(c.env, me, c.req.param("id"), { op: "bans" });
    return c.json({ banned: answer.banned ?? [] });
  });

  app.post("/:id/invites", async (c) => {
    const body = await v.jsonBody(c.req.raw);
    const days = body.days ?? INVITE_DAYS_DEFAULT;
    if (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > INVITE_DAYS_MAX) throw invalid(`days must be a whole number from 1 to ${INVITE_DAYS_MAX}`);
    const answer = await invites(c.env, c.get("caller").user.username, c.req.param("id"), { op: "create", days });
    return c.json({ invite: answer.links[0] }, 201);
  });

  app.get("/:id/invites", async (c) => {
    const answer = await invites(c.env, c.get("caller").user.username, c.req.param("id"), { op: "list" });
    return c.json({ invites: answer.links });
  });

  app.delete("/:id/invites/:token", async (c) => {
    await invites(c.env, c.get("caller").user.username, c.req.param("id"), { op: "revoke", token: inviteToken(c.req.param("token")) });
    return c.body(null, 204);
  });

  app.delete("/:id", async (c) => {
    const me = c.get("caller").user.username;
    const id = c.req.param("id");
    await moderate(c.env, me, id, { op: "delete" });
    await directory(c.env).remove(id);
    return c.body(null, 204);
  });
}
