/**
 * A member's coming online, reported by a conversation's socket, is announced to their other
 * conversations a slice at a time (issue 17, watch.ts ANNOUNCE_SLICE): the next slice is told only
 * once the last one answered, so the conversation being opened does not wait behind every other
 * one waking. Every conversation still hears, and a newer state overtakes an older one.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import type { ConversationObject } from "../../worker/conversation";
import { ANNOUNCE_SLICE } from "../../worker/user/watch";
import { convSql, convStub, room, signup, userStub, type Account } from "./helpers";

const HOUR = 3_600_000;
/** Three slices: two full and one part. */
const ROOMS = ANNOUNCE_SLICE * 2 + 3;

/** ROOMS rooms with `member` in each, from a few owners (a day's budget of rooms is per owner). */
async function roomsWith(member: Account): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < ROOMS) {
    const owner = await signup("pace");
    for (let i = 0; i < 10 && ids.length < ROOMS; i++) ids.push((await room(owner, [member])).id);
  }
  return ids;
}

/** The member's presence row in each room: [online, version]. */
async function rows(ids: string[], username: string): Promise<[number, number][]> {
  const out: [number, number][] = [];
  for (const id of ids) {
    const [r] = await convSql(id, "SELECT online, version FROM presence WHERE username = ?", username);
    out.push([Number(r?.online ?? -1), Number(r?.version ?? -1)]);
  }
  return out;
}

describe("announcing a member's presence, paced (issue 17)", () => {
  it("tells the conversations a slice at a time, each slice once the one before answered", async () => {
    const bob = await signup("pace");
    const ids = await roomsWith(bob);
    // Every room notes when the announcement reaches it and when it has answered. (A call through
    // a stub finds the method on the class, not on an instance: the prototype is wrapped, and put
    // back at the end.)
    const log: string[] = [];
    const proto = await runInDurableObject(convStub(ids[0]!), (instance) => Object.getPrototypeOf(instance) as ConversationObject);
    const own = proto.memberPresence;
    proto.memberPresence = async function (this: ConversationObject, ...args: Parameters<typeof own>) {
      const id = this.store.meta()?.id ?? "?";
      if (args[0] !== bob.username || !args[1].online) return own.apply(this, args);
      log.push(`call ${id}`);
      try {
        return await own.apply(this, args);
      } finally {
        log.push(`done ${id}`);
      }
    };
    onTestFinished(() => { proto.memberPresence = own; });
    // A socket of Bob's opened in the first room: its object reports the lease.
    await userStub(bob).connection(ids[0]!, true, Date.now() + HOUR, ["s1"]);
    await vi.waitFor(() => expect(log.filter((l) => l.startsWith("done"))).toHaveLength(ROOMS), { timeout: 10_000, interval: 50 });

    const calls = log.filter((l) => l.startsWith("call")).map((l) => l.slice(5));
    expect(new Set(calls).size).toBe(ROOMS);
    // In the order the user object holds its list (the most recently active first), in slices.
    const order = await runInDurableObject(userStub(bob), (instance) => instance.index.ids());
    const bySlice = (list: string[]) => [0, 1, 2].map((k) => [...list.slice(k * ANNOUNCE_SLICE, (k + 1) * ANNOUNCE_SLICE)].sort());
    expect(bySlice(calls)).toEqual(bySlice(order));
    for (let s = ANNOUNCE_SLICE; s < ROOMS; s += ANNOUNCE_SLICE) {
      const firstOfSlice = log.indexOf(`call ${calls[s]}`);
      const lastDoneBefore = Math.max(...calls.slice(s - ANNOUNCE_SLICE, s).map((id) => log.indexOf(`done ${id}`)));
      expect(lastDoneBefore, `slice at ${s} was told before the one before it answered`).toBeLessThan(firstOfSlice);
    }
    // Every room shows Bob online, with the same version.
    const seen = await rows(ids, bob.username);
    expect(new Set(seen.map(([online, version]) => `${online}/${version}`)).size).toBe(1);
    expect(seen[0]![0]).toBe(1);
  });

  it("a newer state overtakes a paced one: every conversation ends with the last", async () => {
    const bob = await signup("pace");
    const ids = await roomsWith(bob);
    // Online and at once offline again: the second announcement starts while the first is paced.
    await userStub(bob).connection(ids[0]!, true, Date.now() + HOUR, ["s1"]);
    await userStub(bob).connection(ids[0]!, false, 0);
    const last = (await userStub(bob).presenceState()).version;
    await vi.waitFor(async () => expect(await rows(ids, bob.username)).toEqual(ids.map(() => [0, last])), { timeout: 10_000, interval: 100 });
  });
});
