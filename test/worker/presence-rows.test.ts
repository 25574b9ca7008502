/**
 * How a conversation stores its members' announced presence (issue 17, presence-table.ts): who
 * came online or left is written together with the others that arrive within a moment, whom to
 * notify is written at once, and the member's object is answered only once the row is stored.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { convSql, convStub, room, signup } from "./helpers";

const rowsOf = (id: string) => convSql(id, "SELECT username, online, watching, version FROM presence ORDER BY username");

describe("a conversation's presence rows", () => {
  it("writes members coming online together, and answers each once its row is stored", async () => {
    const owner = await signup("rows");
    const members = [await signup("rows"), await signup("rows"), await signup("rows")];
    const conv = await room(owner, members);
    const stub = convStub(conv.id);
    const answers = await Promise.all(members.map((m, i) => stub.memberPresence(m.username, { online: true, watching: false, version: 10 + i })));
    expect(answers.every((a) => a.member)).toBe(true);
    // Answered: every row is stored.
    const names = new Set(members.map((m) => m.username));
    expect((await rowsOf(conv.id)).filter((r) => names.has(String(r.username)))).toEqual(
      members.map((m, i) => ({ username: m.username, online: 1, watching: 0, version: 10 + i })).sort((a, b) => a.username.localeCompare(b.username)),
    );
    // One write for the three: nothing was stored before the last announcement was applied.
    const order: string[] = [];
    await runInDurableObject(stub, async (instance, state) => {
      const sql = state.storage.sql;
      const exec = sql.exec;
      sql.exec = ((query: string, ...bindings: SqlStorageValue[]) => {
        if (/INSERT INTO presence/.test(query)) order.push("write");
        return exec.call(sql, query, ...bindings);
      }) as SqlStorage["exec"];
      try {
        const calls = members.map((m, i) => {
          const answered = instance.memberPresence(m.username, { online: false, watching: false, version: 20 + i, lastSeen: 1 });
          order.push("applied");
          return answered;
        });
        await Promise.all(calls);
      } finally {
        sql.exec = exec;
      }
    });
    expect(order).toEqual(["applied", "applied", "applied", "write", "write", "write"]);
  });

  it("writes at once a change of whom to notify (an inbox opened)", async () => {
    const owner = await signup("rows");
    const bob = await signup("rows");
    const conv = await room(owner, [bob]);
    const stored = await runInDurableObject(convStub(conv.id), (instance, state) => {
      void instance.memberPresence(bob.username, { online: true, watching: true, version: 5 });
      // Still inside the same turn: the row is already written.
      return state.storage.sql.exec("SELECT watching FROM presence WHERE username = ?", bob.username).toArray();
    });
    expect(stored).toEqual([{ watching: 1 }]);
  });
});
