// The load generator's own checks (bench/lib): the order each client sees, the peak rate of
// upgrades, the medians of --repeat, and the verdicts on the issues' targets. A bench whose
// checks cannot fail would report "0 lost" whatever the server did.
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain ES modules of the bench, without type declarations
import { SeqCheck } from "../../bench/lib/client.mjs";
// @ts-expect-error: as above
import { peakPer } from "../../bench/lib/deploy.mjs";
// @ts-expect-error: as above
import { checkTargets, printTargets } from "../../bench/lib/goals.mjs";
// @ts-expect-error: as above
import { parseArgs } from "../../bench/lib/options.mjs";
// @ts-expect-error: as above
import { aggregate } from "../../bench/lib/report.mjs";

const P = { dms: 20, mid: 100 };

describe("SeqCheck", () => {
  it("counts nothing for a log seen in order from its synced on", () => {
    const c = new SeqCheck();
    c.see(3); // before `synced`: ignored
    c.synced(5);
    for (const s of [6, 7, 8]) c.see(s);
    expect([c.lastSeq, c.dup, c.outOfOrder, c.lostUpTo(8)]).toEqual([8, 0, 0, 0]);
  });

  it("counts a gap as lost, a repeat as duplicated, a late seq as out of order", () => {
    const c = new SeqCheck();
    c.synced(0);
    for (const s of [1, 3, 3, 4]) c.see(s);
    expect(c.lostUpTo(4)).toBe(1); // 2 never came
    expect(c.dup).toBe(1);
    c.see(2);
    expect([c.outOfOrder, c.lostUpTo(4)]).toEqual([1, 0]);
    expect(c.lostUpTo(6)).toBe(2); // a missing tail
  });
});

describe("peakPer", () => {
  it("finds the busiest second of a list of timestamps", () => {
    expect(peakPer([])).toBe(0);
    expect(peakPer([0, 100, 200, 1500, 1600, 1700, 1800, 2400])).toBe(5);
    expect(peakPer([0, 1000, 2000])).toBe(1);
  });
});

describe("aggregate", () => {
  it("takes the median of each figure across passes and leaves failed passes out", () => {
    const pass = (mps: number, p99: number) => ({ room2: { title: "t", kind: "drive", by: { ours: { messagesPerSecond: mps, fanoutMs: { p99 } } } } });
    const merged = aggregate([pass(10, 5), pass(30, 1), { room2: { title: "t", kind: "drive", by: { ours: { error: "boom" } } } }, pass(20, 3)]);
    expect(merged.room2.by.ours).toEqual({ messagesPerSecond: 20, fanoutMs: { p99: 3 } });
  });
});

describe("checkTargets", () => {
  const drive = (mps: number, extra = {}) => ({ messagesPerSecond: mps, lost: 0, duplicated: 0, outOfOrder: 0, ...extra });
  const run = (oursDm: number, presence = { watchedUsers: 99, usersSeenOnline: 99, onlineFramesPerUser: 1, onlineFramesPerUserMax: 1, framesToConversationSockets: 0 }) => ({
    dm20: { title: "dm", kind: "drive", by: { ours: drive(oursDm), bare: drive(100) } },
    storm: {
      title: "storm",
      kind: "storm",
      by: {
        ours: { syncedMs: 300, acceptMs: 250, warmUpgradeMs: { p50: 5 }, presence, lost: 0, duplicated: 0, outOfOrder: 0 },
        bare: { syncedMs: 100, acceptMs: 100, warmUpgradeMs: { p50: 4 }, lost: 0, duplicated: 0, outOfOrder: 0 },
      },
    },
  });
  const goal = (list: { what: string }[], start: string) => list.find((g) => g.what.startsWith(start)) as Record<string, unknown>;

  it("judges the median pass against the bound and reports the spread", () => {
    const list = checkTargets([run(90), run(120), run(110)], P);
    expect(goal(list, "20 DMs")).toMatchObject({ met: true, median: 1.1, min: 0.9, max: 1.2, passes: 3 });
    expect(goal(list, "reconnect storm")).toMatchObject({ met: false, median: 3 });
    expect(goal(list, "one upgrade")).toMatchObject({ met: true, median: 1.25 });
    expect(goal(list, "room of 2")).toMatchObject({ met: null, detail: "not measured" });
    expect(printTargets(list)).toContain("median of 3, 0.9 - 1.2");
  });

  it("gives the storm without assets as a reading beside the target, never a verdict", () => {
    const r = run(100);
    (r.storm.by as Record<string, unknown>)["ours-noassets"] = { syncedMs: 180, acceptMs: 170, lost: 0, duplicated: 0, outOfOrder: 0 };
    const list = checkTargets([r], P);
    expect(goal(list, "reconnect storm")).toMatchObject({ met: false, median: 3 });
    expect(goal(list, "reading: the same storm")).toMatchObject({ met: null, median: 1.8 });
    expect(goal(checkTargets([run(100)], P), "reading: the same storm")).toMatchObject({ met: null, detail: "not measured" });
  });

  it("fails presence unless every user coming back is announced exactly once", () => {
    const twice = { watchedUsers: 99, usersSeenOnline: 99, onlineFramesPerUser: 1.5, onlineFramesPerUserMax: 3, framesToConversationSockets: 0 };
    const missing = { watchedUsers: 99, usersSeenOnline: 98, onlineFramesPerUser: 0.99, onlineFramesPerUserMax: 1, framesToConversationSockets: 0 };
    expect(goal(checkTargets([run(100)], P), "presence")).toMatchObject({ met: true });
    expect(goal(checkTargets([run(100, twice)], P), "presence")).toMatchObject({ met: false });
    expect(goal(checkTargets([run(100, missing)], P), "presence")).toMatchObject({ met: false });
  });

  it("fails delivery when any pass of any scenario lost, repeated or reordered a message", () => {
    const bad = run(100);
    bad.dm20.by.bare.duplicated = 2;
    expect(goal(checkTargets([run(100)], P), "0 lost")).toMatchObject({ met: true });
    const list = checkTargets([run(100), bad], P);
    expect(goal(list, "0 lost")).toMatchObject({ met: false });
    expect(goal(list, "0 lost").detail).toContain("dm20 bare (pass 2)");
  });
});

describe("the tools' flags", () => {
  it("splits a value at its first '=' only, and a bare flag is true", () => {
    const args = parseArgs(["--builds=main=.,nocheck=../wt/nocheck:noassets", "--quick", "--repeat=3"]);
    expect(args.get("builds")).toBe("main=.,nocheck=../wt/nocheck:noassets");
    expect(args.get("quick")).toBe(true);
    expect(args.get("repeat")).toBe("3");
  });
});
