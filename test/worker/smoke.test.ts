import { describe, expect, it } from "vitest";
import { api, dm, join, signup } from "./helpers";

describe("end to end", () => {
  it("two people sign up, open a DM and talk", async () => {
    const alice = await signup("alice");
    const bob = await signup("bob");
    const conv = await dm(alice, bob);
    const a = await join(conv.id, alice);
    const b = await join(conv.id, bob);
    a.send({ t: "send", id: "m1", body: "hello bob" });
    const ack = await a.next("ack");
    expect(ack).toMatchObject({ id: "m1", seq: 1 });
    const msg = await b.next("msg");
    expect(msg).toMatchObject({ seq: 1, from: alice.username, body: "hello bob" });
    const res = await api("GET", `/api/conversations/${conv.id}/messages`, bob.token);
    expect(await res.json()).toMatchObject({ messages: [{ seq: 1, body: "hello bob" }], more: false });
    a.close();
    b.close();
  });
});
