/**
 * Issue 14: invite links to private rooms. Admins and the owner make them (a token with an expiry),
 * list and revoke them; whoever holds a live one joins; an expired, revoked or other room's token,
 * or a ban, is refused and changes nothing.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { InviteLink, Summary } from "../../protocol";
import { api, convStub, room, signup, type Account } from "./helpers";

const DAY = 86_400_000;

async function makeLink(conv: string, by: Account, body: object = {}): Promise<InviteLink> {
  const res = await api("POST", `/api/conversations/${conv}/invites`, by.token, body);
  expect(res.status).toBe(201);
  return ((await res.json()) as { invite: InviteLink }).invite;
}

const joinWith = (conv: string, who: Account, invite?: string) =>
  api("POST", `/api/conversations/${conv}/join`, who.token, invite === undefined ? undefined : { invite });

async function memberNames(conv: string, a: Account): Promise<string[]> {
  const res = await api("GET", `/api/conversations/${conv}/members`, a.token);
  return ((await res.json()) as { members: { username: string }[] }).members.map((m) => m.username);
}

describe("invite links", () => {
  it("let whoever holds a live link join a private room, which nothing else opens", async () => {
    const owner = await signup("owner");
    const guest = await signup("guest");
    const conv = await room(owner, [], true);
    expect((await joinWith(conv.id, guest)).status).toBe(403);
    const before = Date.now();
    const link = await makeLink(conv.id, owner);
    expect(link.token).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(link.by).toBe(owner.username);
    expect(link.expires - link.created).toBe(7 * DAY);
    expect(link.created).toBeGreaterThanOrEqual(before);
    const res = await joinWith(conv.id, guest, link.token);
    expect(res.status).toBe(200);
    const joined = ((await res.json()) as { conversation: Summary }).conversation;
    expect(joined).toMatchObject({ id: conv.id, private: true, role: "member" });
    expect(await memberNames(conv.id, owner)).toContain(guest.username);
    // The link stays usable by others until it expires or is revoked.
    const other = await signup("other");
    expect((await joinWith(conv.id, other, link.token)).status).toBe(200);
  });

  it("are made, listed and revoked by admins and the owner only", async () => {
    const owner = await signup("owner");
    const admin = await signup("admin");
    const member = await signup("member");
    const outsider = await signup("outsider");
    const conv = await room(owner, [admin, member], true);
    expect((await api("PUT", `/api/conversations/${conv.id}/members/${admin.username}/role`, owner.token, { role: "admin" })).status).toBe(200);
    const link = await makeLink(conv.id, admin, { days: 1 });
    expect(link.expires - link.created).toBe(DAY);
    expect((await api("POST", `/api/conversations/${conv.id}/invites`, member.token, {})).status).toBe(403);
    expect((await api("GET", `/api/conversations/${conv.id}/invites`, member.token)).status).toBe(403);
    expect((await api("POST", `/api/conversations/${conv.id}/invites`, outsider.token, {})).status).toBe(404);
    expect((await api("POST", `/api/conversations/${conv.id}/invites`, owner.token, { days: 31 })).status).toBe(400);
    expect((await api("POST", `/api/conversations/${conv.id}/invites`, owner.token, { days: "7" })).status).toBe(400);
    const listed = await api("GET", `/api/conversations/${conv.id}/invites`, owner.token);
    expect(((await listed.json()) as { invites: InviteLink[] }).invites).toEqual([link]);
    // A public room needs none.
    const open = await room(owner);
    expect((await api("POST", `/api/conversations/${open.id}/invites`, owner.token, {})).status).toBe(400);
  });

  it("refuse a revoked, expired or other room's link, and a banned user, changing nothing", async () => {
    const owner = await signup("owner");
    const guest = await signup("guest");
    const conv = await room(owner, [], true);
    const elsewhere = await room(owner, [], true);
    const revoked = await makeLink(conv.id, owner);
    expect((await api("DELETE", `/api/conversations/${conv.id}/invites/${revoked.token}`, owner.token)).status).toBe(204);
    expect((await api("DELETE", `/api/conversations/${conv.id}/invites/${revoked.token}`, owner.token)).status).toBe(404);
    const refused = await joinWith(conv.id, guest, revoked.token);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/invite link/);
    const expired = await makeLink(conv.id, owner);
    await runInDurableObject(convStub(conv.id), (_i, state) => {
      state.storage.sql.exec("UPDATE invites SET expires = ? WHERE token = ?", Date.now() - 1, expired.token);
    });
    expect((await joinWith(conv.id, guest, expired.token)).status).toBe(403);
    const other = await makeLink(elsewhere.id, owner);
    expect((await joinWith(conv.id, guest, other.token)).status).toBe(403);
    expect((await joinWith(conv.id, guest, "not a token")).status).toBe(400);
    expect(await memberNames(conv.id, owner)).toEqual([owner.username]);
    // A ban holds whatever link the person has.
    const live = await makeLink(conv.id, owner);
    expect((await api("PUT", `/api/conversations/${conv.id}/bans/${guest.username}`, owner.token)).status).toBe(204);
    const banned = await joinWith(conv.id, guest, live.token);
    expect(banned.status).toBe(403);
    expect(((await banned.json()) as { error: { code: string } }).error.code).toBe("banned");
    expect(await memberNames(conv.id, owner)).toEqual([owner.username]);
    // The guest's list never got the room.
    const list = await api("GET", "/api/conversations", guest.token);
    expect(((await list.json()) as { conversations: Summary[] }).conversations.map((c) => c.id)).not.toContain(conv.id);
  });
});
