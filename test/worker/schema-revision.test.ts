/**
 * The schema is installed once per revision (worker/schema-revision.ts): a wake of an object whose
 * storage has this revision runs no install statement, and one that lacks it (an older object, a
 * changed schema) runs the whole install and records it.
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { installedRevision } from "../../worker/schema-revision";
import { api, asOlderObject, closeAll, convSql, convStub, join, room, signup, statementsDuring, userStub } from "./helpers";

type Stub = ReturnType<typeof convStub> | ReturnType<typeof userStub>;

/**
 * The statements a wake runs: a second instance of the object's class is made on the same
 * storage (what the runtime does after an eviction), with every statement recorded.
 */
function statementsOfWake(stub: Stub): Promise<string[]> {
  const wake = () =>
    runInDurableObject(stub as ReturnType<typeof convStub>, (instance, state) => {
      const Woken = instance.constructor as new (state: DurableObjectState, env: Env) => unknown;
      new Woken(state, env);
    });
  return statementsDuring(stub, wake).then((all) => all.map((q) => q.trim().split(/\s+/).slice(0, 3).join(" ")));
}

const INSTALLS = /^(CREATE|ALTER|DROP|INSERT|UPDATE|DELETE)\b/;

describe("the schema's revision", () => {
  it("a conversation and a user's object woken again run only the revision check", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const conv = await room(ann, [ben]);
    for (const [stub, untoldChecks] of [[convStub(conv.id), 0], [userStub(ann), 1]] as const) {
      const statements = await statementsOfWake(stub);
      expect(statements.filter((q) => INSTALLS.test(q))).toEqual([]);
      // Besides: a user's object looks once whether its last announced state reached every
      // conversation (watch.ts `resume`), after the event that woke it.
      expect(statements.filter((q) => q !== "SELECT untold FROM").length).toBeLessThanOrEqual(2);
      expect(statements.filter((q) => q === "SELECT untold FROM").length).toBe(untoldChecks);
    }
  });

  it("an object without the record (made before it, or wiped) installs everything and records it", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const conv = await room(ann, [ben]);
    for (const stub of [convStub(conv.id), userStub(ann)]) {
      const recorded = await runInDurableObject(stub as ReturnType<typeof convStub>, (_i, state) => {
        const now = installedRevision(state.storage.sql);
        asOlderObject(state.storage.sql);
        return now;
      });
      expect(recorded).toMatch(/^[0-9a-f]{8}-/);
      const statements = await statementsOfWake(stub);
      expect(statements.filter((q) => q.startsWith("CREATE TABLE")).length).toBeGreaterThan(10);
      expect(await runInDurableObject(stub as ReturnType<typeof convStub>, (_i, state) => installedRevision(state.storage.sql))).toBe(recorded);
    }
  });

  it("a changed schema is installed at the next wake: a column it adds is there, and the data kept", async () => {
    const [ann, ben] = [await signup("ann"), await signup("ben")];
    const conv = await room(ann, [ben]);
    const a = await join(conv.id, ann);
    a.send({ t: "send", id: "kept", body: "from before the change" });
    await a.next("ack");
    await closeAll(a);
    // Storage as the revision before a column was added to `members` stored it.
    await runInDurableObject(convStub(conv.id), (_i, state) => {
      state.storage.sql.exec("ALTER TABLE members DROP COLUMN erased");
      state.storage.sql.exec("UPDATE schema_revision SET fingerprint = 'an-older-revision'");
    });
    await evictDurableObject(convStub(conv.id));
    const columns = await convSql(conv.id, "SELECT name FROM pragma_table_info('members') WHERE name = 'erased'");
    expect(columns).toEqual([{ name: "erased" }]);
    const b = await join(conv.id, ben, { since: 0 });
    expect(b.of("msg").map((m) => m.body)).toEqual(["from before the change"]);
    expect((await api("GET", `/api/conversations/${conv.id}/members`, ben.token)).status).toBe(200);
    await closeAll(b);
  });
});
