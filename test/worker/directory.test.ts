/** Extension: the directory of public rooms (GET /api/conversations/public). */
import { describe, expect, it } from "vitest";
import type { Summary } from "../../protocol";
import { api, signup } from "./helpers";

async function create(token: string, title: string, isPrivate: boolean): Promise<Summary> {
  const res = await api("POST", "/api/conversations", token, { kind: "room", title, private: isPrivate });
  expect(res.status).toBe(201);
  return ((await res.json()) as { conversation: Summary }).conversation;
}

describe("public room directory", () => {
  it("lists public rooms newest first, finds them by title, and never lists private ones", async () => {
    const owner = await signup("owner");
    const reader = await signup("reader");
    const older = await create(owner.token, "Gardening club", false);
    const secret = await create(owner.token, "Gardening secrets", true);
    const newer = await create(owner.token, "Rust 中文 群", false);

    const all = (await (await api("GET", "/api/conversations/public", reader.token)).json()) as { rooms: { id: string; title: string }[] };
    const ids = all.rooms.map((r) => r.id);
    expect(ids.indexOf(newer.id)).toBeLessThan(ids.indexOf(older.id));
    expect(ids).not.toContain(secret.id);

    const found = (await (await api("GET", "/api/conversations/public?q=garden", reader.token)).json()) as { rooms: { id: string }[] };
    expect(found.rooms.map((r) => r.id)).toEqual([older.id]);
    const chinese = (await (await api("GET", `/api/conversations/public?q=${encodeURIComponent("中文")}`, reader.token)).json()) as { rooms: { id: string }[] };
    expect(chinese.rooms.map((r) => r.id)).toEqual([newer.id]);

    // Found rooms can be joined.
    expect((await api("POST", `/api/conversations/${older.id}/join`, reader.token)).status).toBe(200);
  });

  it("needs a session", async () => {
    expect((await api("GET", "/api/conversations/public")).status).toBe(401);
  });
});
