/**
 * The socket paths (`GET /chat/:id`, `GET /inbox`, worker/index.ts) when what comes is not a
 * socket for them: a plain GET gets 426 with the security headers every response carries, other
 * methods and deeper paths are no route (404 as JSON), and an id that does not decode is refused
 * like any unknown conversation. What goes on to an object is the identity, not the credentials.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it, onTestFinished } from "vitest";
import { SocketObject } from "../../worker/socket-object";
import { SECURITY_HEADERS } from "../../worker/security-headers";
import { BASE, closeAll, connect, join, room, signup } from "./helpers";

function expectSecured(res: Response): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name), name).toBe(value);
  // BASE is https: a browser is told to keep to it.
  expect(res.headers.get("Strict-Transport-Security")).toMatch(/^max-age=\d+$/);
}

describe("socket routes", () => {
  it("a plain GET on a socket path: 426 with the security headers", async () => {
    const alice = await signup("sr");
    const conv = await room(alice);
    for (const path of [`/chat/${conv.id}`, "/inbox"]) {
      const res = await SELF.fetch(`${BASE}${path}`, { headers: { Authorization: `Bearer ${alice.token}` } });
      expect(res.status, path).toBe(426);
      expectSecured(res);
      await res.arrayBuffer();
    }
  });

  it("other methods and deeper paths reach the router: 404 as JSON", async () => {
    const alice = await signup("sr");
    const conv = await room(alice);
    for (const [method, path] of [["POST", `/chat/${conv.id}`], ["DELETE", "/inbox"], ["GET", `/chat/${conv.id}/more`], ["GET", "/chat/"], ["GET", "/inbox/x"]] as const) {
      // No Upgrade header: the test runtime's fetch makes any request that has one a GET handshake.
      const res = await SELF.fetch(`${BASE}${path}`, { method, headers: { Authorization: `Bearer ${alice.token}` } });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toEqual({ error: { code: "not_found", message: "no such route" } });
      expectSecured(res);
    }
  });

  it("a refused upgrade carries its close code; an id that does not decode is one (4404)", async () => {
    const alice = await signup("sr");
    const noToken = await connect("/chat/r0123", null);
    expect(await noToken.closed()).toBe(4401);
    const undecodable = await connect("/chat/%E0%A4%A", alice);
    expect(await undecodable.closed()).toBe(4404);
  });

  it("an object gets the URL, the upgrade, the offered subprotocols and the identity: never the token or the cookie", async () => {
    const seen: { url: string; headers: string[] }[] = [];
    const original = SocketObject.prototype.fetch;
    SocketObject.prototype.fetch = function (this: SocketObject, request: Request) {
      seen.push({ url: request.url, headers: [...request.headers.keys()].sort() });
      return original.call(this, request);
    };
    onTestFinished(() => {
      SocketObject.prototype.fetch = original;
    });
    const alice = await signup("sr");
    const conv = await room(alice);
    const sockets = [
      await connect(`/chat/${conv.id}`, alice, { cookie: true, origin: BASE, since: 0 }),
      await connect(`/chat/${conv.id}`, alice),
      await connect("/inbox", alice, { cookie: true, origin: BASE }),
    ];
    expect(seen.map((s) => s.url)).toEqual([`${BASE}/chat/${conv.id}?since=0`, `${BASE}/chat/${conv.id}`, `${BASE}/inbox`]);
    for (const s of seen) expect(s.headers).toEqual(["sec-websocket-protocol", "upgrade", "x-chat-session", "x-chat-session-expires", "x-chat-user"]);
    await closeAll(...sockets);
  });

  it("serves a socket on the path the router took, percent-encoded or not", async () => {
    const alice = await signup("sr");
    const conv = await room(alice);
    const plain = await join(conv.id, alice);
    const encoded = await connect(`/chat/${encodeURIComponent(conv.id).replace("r", "%72")}`, alice);
    encoded.send({ t: "send", id: "e1", body: "through %72" });
    expect(await encoded.next("ack")).toMatchObject({ id: "e1" });
    expect(await plain.next("msg")).toMatchObject({ body: "through %72" });
    await closeAll(plain, encoded);
  });
});
