/** Room settings, roles, removals and profiles (v1.1) as the conversation model applies them, and who may do what. */
import { describe, expect, it } from "vitest";
import type { RoleFrame, RoomFrame } from "../../protocol";
import { ConversationModel } from "../../web/src/models/conversation";
import { deletedAccounts, nameOf } from "../../web/src/models/names";
import { canModerate, canRemove, canSetRoles } from "../../web/src/models/roles";
import { conv, member, welcome } from "./web-fixtures";

const ts = 1_700_000_000_000;

function room(): ConversationModel {
  const m = new ConversationModel("c1", "alice", 0);
  m.receive({ ...welcome(0, [{ ...member("alice", true), role: "member" }, { ...member("bob"), role: "owner" }]), conv: { ...conv, kind: "room", title: "Hall", role: "member", lastSeq: 0 } });
  m.receive({ t: "synced", lastSeq: 0, more: false });
  return m;
}

const roomEvent = (seq: number, patch: Partial<RoomFrame>): RoomFrame => ({ t: "room", seq, title: "Hall", topic: "", private: false, by: "bob", ts, ...patch });
const roleEvent = (seq: number, username: string, role: RoleFrame["role"]): RoleFrame => ({ t: "role", seq, username, role, by: "bob", ts });

describe("room and role events", () => {
  it("keeps a line per change, saying what changed, and updates the summary", () => {
    const m = room();
    m.receive(roomEvent(1, { title: "Big hall" }));
    m.receive(roomEvent(2, { title: "Big hall", topic: "Plans" }));
    m.receive(roomEvent(3, { title: "Big hall", topic: "Plans", private: true }));
    expect(m.timeline.value.map((i) => (i.kind === "room" ? i.changed : i.kind))).toEqual(["title", "topic", "private"]);
    expect(m.summary.value).toMatchObject({ title: "Big hall", topic: "Plans", private: true });
    m.receive(roomEvent(4, { title: "Big hall", topic: "", private: false }));
    expect(m.summary.value?.topic).toBeUndefined();
    expect(m.summary.value?.private).toBeUndefined();
  });

  it("gives my new role to the summary and each member's to the list", () => {
    const m = room();
    m.receive(roleEvent(1, "alice", "admin"));
    expect(m.summary.value?.role).toBe("admin");
    expect(m.members.value.find((x) => x.username === "alice")?.role).toBe("admin");
    expect(m.timeline.value[0]).toMatchObject({ kind: "role", username: "alice", role: "admin", by: "bob" });
  });

  it("remembers who removed me, live, but not from a replay", () => {
    const live = room();
    live.receive({ t: "member", seq: 1, username: "alice", joined: false, ts, by: "bob" });
    expect(live.removedBy.value).toBe("bob");
    expect(live.timeline.value[0]).toMatchObject({ kind: "member", joined: false, by: "bob" });

    const replayed = new ConversationModel("c1", "alice", 0);
    replayed.receive(welcome(1));
    replayed.receive({ t: "member", seq: 1, username: "alice", joined: false, ts, by: "bob" });
    expect(replayed.removedBy.value).toBeNull();
  });

  it("renames a member from a profile frame, and shows an erased account as deleted", () => {
    const m = room();
    m.receive({ t: "profile", username: "bob", name: "Bobby" });
    expect(m.members.value.find((x) => x.username === "bob")?.name).toBe("Bobby");
    expect(nameOf("bob")).toBe("Bobby");
    m.receive({ t: "profile", username: "bob", name: "Deleted account", deleted: true });
    expect(deletedAccounts.value.has("bob")).toBe(true);
    expect(m.members.value.find((x) => x.username === "bob")?.deleted).toBe(true);
  });
});

describe("what a role allows", () => {
  it("follows the contract's matrix", () => {
    expect([canModerate("owner"), canModerate("admin"), canModerate("member"), canModerate(undefined)]).toEqual([true, true, false, false]);
    expect([canSetRoles("owner"), canSetRoles("admin")]).toEqual([true, false]);
    // The owner removes anyone but the owner; an admin only members; a member nobody.
    expect([canRemove("owner", "admin"), canRemove("owner", "member"), canRemove("owner", "owner")]).toEqual([true, true, false]);
    expect([canRemove("admin", "member"), canRemove("admin", "admin"), canRemove("admin", "owner")]).toEqual([true, false, false]);
    expect(canRemove("member", "member")).toBe(false);
  });
});
