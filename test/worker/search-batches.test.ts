/**
 * When the search index is written (issue 17): after a pause in the sends or once a batch waits,
 * never in small slices under a steady stream; and a search finds every message meanwhile.
 */
import { describe, expect, it, vi } from "vitest";
import type { Message } from "../../protocol";
import { INDEX_BATCH, INDEX_QUIET_MS } from "../../worker/conversation/search-index";
import { api, closeAll, convSql, dm, join, setLimits, signup, type TestClient } from "./helpers";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function say(c: TestClient, body: string): Promise<number> {
  const id = `s-${Math.random().toString(36).slice(2)}`;
  c.send({ t: "send", id, body });
  return (await c.next("ack", (a) => a.id === id)).seq;
}

const indexed = async (conv: string) => Number((await convSql(conv, "SELECT count(*) AS n FROM messages_fts"))[0]!.n);

/** A DM between two new people, alice connected, with a send budget that a test will not reach. */
async function freshDm() {
  const alice = await signup("alice");
  const bob = await signup("bob");
  const conv = await dm(alice, bob);
  const a = await join(conv.id, alice);
  await setLimits(conv.id, { sendsPerSecond: 100_000, sendBurst: 100_000 });
  return { bob, conv, a };
}

describe("the search index under a stream of sends", () => {
  it("a steady trickle is not indexed while it lasts; a pause indexes all of it, and search finds it before and after", async () => {
    // A message every 50 ms for 1.5 quiet periods: the stream never pauses for INDEX_QUIET_MS.
    // A machine that stalls for most of a quiet period meanwhile proves nothing: try again.
    const count = Math.ceil((1.5 * INDEX_QUIET_MS) / 50);
    for (let attempt = 1; ; attempt++) {
      const { bob, conv, a } = await freshDm();
      let longestGap = 0;
      let last = Date.now();
      for (let i = 0; i < count; i++) {
        await say(a, `trickle number ${i} about walruses`);
        longestGap = Math.max(longestGap, Date.now() - last);
        last = Date.now();
        await sleep(50);
      }
      const stalled = longestGap >= 0.8 * INDEX_QUIET_MS;
      if (stalled && attempt < 3) {
        await closeAll(a);
        continue;
      }
      expect(stalled, `the test machine stalled for ${longestGap} ms three times`).toBe(false);
      expect(await indexed(conv.id)).toBe(0);
      const res = await api("GET", `/api/conversations/${conv.id}/search?q=walruses`, bob.token);
      expect(((await res.json()) as { messages: Message[] }).messages).toHaveLength(count);
      await vi.waitFor(async () => expect(await indexed(conv.id)).toBe(count), { timeout: INDEX_QUIET_MS * 5, interval: 100 });
      const again = await api("GET", `/api/conversations/${conv.id}/search?q=walruses`, bob.token);
      expect(((await again.json()) as { messages: Message[] }).messages).toHaveLength(count);
      await closeAll(a);
      return;
    }
  });

  it("a full batch is indexed at once, without waiting for a pause", async () => {
    const { conv, a } = await freshDm();
    for (let i = 0; i < INDEX_BATCH; i++) await say(a, `burst message ${i}`);
    // Keep sending (never a pause) until the indexer has taken the batch.
    let more = 0;
    await vi.waitFor(
      async () => {
        await say(a, `still talking ${more++}`);
        expect(await indexed(conv.id)).toBeGreaterThanOrEqual(INDEX_BATCH);
      },
      { timeout: INDEX_QUIET_MS * 10, interval: 20 },
    );
    await closeAll(a);
  });
});
