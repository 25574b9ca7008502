/**
 * What a client ends up with under `wrangler dev` when it offers permessage-deflate, as every browser
 * does: no extension (worker/sockets.ts, NO_WEBSOCKET_EXTENSIONS), through every hop between it and
 * the object, and the socket still works. Chromium's own offer, and Node's `ws`, told to offer it.
 * Without the header the runtime agrees to the offer (test/worker/socket-extensions.test.ts).
 */
// Named apart from the page's own WebSocket, which the evaluated function below uses.
import NodeWebSocket from "ws";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCodec, DEFAULT_LIMITS, SUBPROTOCOL_MSGPACK, isRecord } from "../../protocol";
import { person, uniqueName } from "./browser";
import { apiRoom, apiSignup } from "./seed";
import { signUp } from "./steps";

const baseUrl = inject("baseUrl");
const codec = createCodec(SUBPROTOCOL_MSGPACK, DEFAULT_LIMITS);

/** Opens `path` offering deflate; resolves with the agreed extensions once the first frame came. */
function openOffering(path: string, token: string): Promise<{ extensions: string; first: string }> {
  return new Promise((resolve, reject) => {
    // perMessageDeflate: true sends the offer `permessage-deflate; client_max_window_bits`.
    const ws = new NodeWebSocket(`${baseUrl.replace("http", "ws")}${path}`, [SUBPROTOCOL_MSGPACK], { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: true });
    ws.once("message", (data: Buffer) => {
      const frame = codec.decodeAll(new Uint8Array(data))[0];
      resolve({ extensions: ws.extensions, first: isRecord(frame) ? String(frame.t) : "?" });
      ws.close();
    });
    ws.once("error", reject);
  });
}

describe("websocket compression", () => {
  let p: Awaited<ReturnType<typeof person>>;
  beforeAll(async () => {
    p = await person(baseUrl);
  });
  afterAll(async () => {
    await p?.close();
  });

  it("is declined for a Node client that offers it, on a conversation and on the inbox", async () => {
    const token = await apiSignup(baseUrl, uniqueName("zed"));
    const conv = await apiRoom(baseUrl, token, "no deflate");
    expect(await openOffering(`/chat/${conv}`, token)).toEqual({ extensions: "", first: "welcome" });
    expect(await openOffering("/inbox", token)).toEqual({ extensions: "", first: "inbox" });
  });

  it("is declined for Chromium, whose every socket offers it", async () => {
    await signUp(p.page, uniqueName("cid"));
    const agreed = await p.page.evaluate(
      () =>
        new Promise<{ extensions: string; type: string }>((resolve, reject) => {
          const ws = new WebSocket(`${location.origin.replace("http", "ws")}/inbox`, ["chat.v1.json"]);
          ws.onmessage = (ev) => {
            resolve({ extensions: ws.extensions, type: String((JSON.parse(String(ev.data)) as { t?: unknown }).t) });
            ws.close();
          };
          ws.onerror = () => reject(new Error("socket failed"));
        }),
    );
    expect(agreed).toEqual({ extensions: "", type: "inbox" });
  });
});
