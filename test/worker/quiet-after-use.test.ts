/**
 * A conversation goes quiet once it is no longer used (issue 17, fifteenth session): after its last
 * socket closes and its work is done, an alarm that finds it put out of memory (hibernation, or
 * `wrangler dev`'s eviction of idle objects) does not set itself again. The notifier's cursor used
 * to be written by the alarm only, so each wake found it behind the log, counted that as work left,
 * set the alarm again and ran the round again, and lost the cursor it moved with the next eviction:
 * every conversation that had a message woke every heartbeat interval for ever.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { CURSOR_SAVE_DELAY_MS } from "../../worker/conversation/notify";
import { closeAll, convSql, convStub, join, room, sendAll, signup, watchedDm } from "./helpers";

const storedCursor = async (conv: string) => Number((await convSql(conv, "SELECT seq FROM notify_cursor WHERE id = 1"))[0]?.seq ?? 0);
const lastSeq = (conv: string) => runInDurableObject(convStub(conv), (instance) => instance.store.lastSeq());
const alarmAt = (conv: string) => runInDurableObject(convStub(conv), (_i, state) => state.storage.getAlarm());

/** Every round done and written, and the search index caught up: nothing left for an alarm. */
async function workDone(conv: string): Promise<void> {
  await runInDurableObject(convStub(conv), (instance) => instance.notifier.settle());
  const last = await lastSeq(conv);
  await vi.waitFor(async () => expect(await storedCursor(conv)).toBe(last), { timeout: CURSOR_SAVE_DELAY_MS * 5, interval: 100 });
  await vi.waitFor(async () => expect(await runInDurableObject(convStub(conv), (instance) => instance.search.behind())).toBe(false), { timeout: 10_000, interval: 100 });
}

describe("a conversation no longer used goes quiet (issue 17)", () => {
  it("in a room nobody watches: its rounds' cursor is written without an alarm, and the alarm after an eviction does not come back", async () => {
    const owner = await signup("quiet");
    const conv = await room(owner, [await signup("quiet")]);
    const a = await join(conv.id, owner);
    await sendAll(a, ["one", "two", "three"]);
    await closeAll(a);

    await workDone(conv.id);
    expect(await alarmAt(conv.id)).not.toBeNull(); // the heartbeat's, set when the socket opened
    await evictDurableObject(convStub(conv.id));
    expect(await runDurableObjectAlarm(convStub(conv.id))).toBe(true);
    expect(await alarmAt(conv.id)).toBeNull();
    expect(await runDurableObjectAlarm(convStub(conv.id))).toBe(false);
  });

  it("in a DM whose other member watches: the inbox is told once, and a wake after an eviction neither tells it again nor sets the alarm", async () => {
    const { conv, inbox, a } = await watchedDm();
    const seqs = await sendAll(a, ["hello", "there"]);
    await inbox.until((frames) => frames.some((f) => f.t === "activity" && f.conv === conv.id && f.seq === seqs[1]));
    await closeAll(a);
    await workDone(conv.id);
    const told = inbox.of("activity").filter((f) => f.conv === conv.id).length;

    await evictDurableObject(convStub(conv.id));
    expect(await runDurableObjectAlarm(convStub(conv.id))).toBe(true);
    await runInDurableObject(convStub(conv.id), (instance) => instance.notifier.settle());
    expect(await alarmAt(conv.id)).toBeNull();
    // Nothing new to tell: no repeat of the last batch reached the inbox.
    await new Promise((r) => setTimeout(r, 300));
    expect(inbox.of("activity").filter((f) => f.conv === conv.id)).toHaveLength(told);
    await closeAll(inbox);
  });
});
