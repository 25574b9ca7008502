/**
 * Every 101 declines permessage-deflate, whatever the client offered (worker/sockets.ts,
 * NO_WEBSOCKET_EXTENSIONS): a conversation's socket, an inbox socket, and an upgrade refused with a
 * close code. The runtime agrees to an offer on its own unless the response names its choice, so
 * without the header each of these would be compressed (test/browser/socket-extensions.test.ts
 * checks what a browser ends up with under `wrangler dev`).
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SUBPROTOCOL_MSGPACK } from "../../protocol";
import { NO_WEBSOCKET_EXTENSIONS } from "../../worker/sockets";
import { BASE, room, signup } from "./helpers";

const OFFER = "permessage-deflate; client_max_window_bits";

async function upgrade(path: string, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Upgrade: "websocket", "Sec-WebSocket-Protocol": SUBPROTOCOL_MSGPACK, "Sec-WebSocket-Extensions": OFFER };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await SELF.fetch(`${BASE}${path}`, { headers });
  expect(res.status).toBe(101);
  res.webSocket!.accept();
  return res;
}

describe("websocket extensions", () => {
  it("declines permessage-deflate on conversation, inbox and refused sockets alike", async () => {
    const alice = await signup("ext");
    const conv = await room(alice);
    for (const [path, token] of [[`/chat/${conv.id}`, alice.token], ["/inbox", alice.token], [`/chat/${conv.id}`, null]] as const) {
      const res = await upgrade(path, token);
      expect(res.headers.get("Sec-WebSocket-Extensions")).toBe(NO_WEBSOCKET_EXTENSIONS);
      expect(res.headers.get("Sec-WebSocket-Protocol")).toBe(SUBPROTOCOL_MSGPACK);
      res.webSocket!.close(1000, "done");
    }
  });
});
