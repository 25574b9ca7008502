/**
 * A read mark is a badge on every device and a tick for the other person, so it must reach the
 * server even when the connection it went on drops first: the app sends it again on the next one.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCodec, DEFAULT_LIMITS, isRecord, SUBPROTOCOL_MSGPACK, SUBPROTOCOL_MSGPACK_SHORT } from "../../protocol";
import { person, uniqueName } from "./browser";
import { messages, row, send, signUp, startDm, tickOf } from "./steps";

const baseUrl = inject("baseUrl");
const codecs = ([SUBPROTOCOL_MSGPACK_SHORT, SUBPROTOCOL_MSGPACK] as const).map((p) => createCodec(p, DEFAULT_LIMITS));

/** Whether a message from the page to the server carries a `read` frame (in whichever codec it speaks). */
function carriesRead(message: string | Buffer): boolean {
  if (typeof message === "string") return message.includes('"t":"read"');
  for (const codec of codecs) {
    try {
      if (codec.decodeAll(new Uint8Array(message)).some((f) => isRecord(f) && f.t === "read")) return true;
    } catch {
      // Not this codec.
    }
  }
  return false;
}

describe("read marks", () => {
  const ann = uniqueName("ann");
  const bo = uniqueName("bo");
  let a: Awaited<ReturnType<typeof person>>;
  let b: Awaited<ReturnType<typeof person>>;

  beforeAll(async () => {
    [a, b] = await Promise.all([person(baseUrl), person(baseUrl)]);
    await signUp(a.page, ann);
    await signUp(b.page, bo);
    await startDm(a.page, bo);
    await send(a.page, "are you there?");
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("sends a read mark again when the connection it went on dropped before the server took it", async () => {
    // Bo's conversation sockets pass through here: the first `read` is lost with its connection.
    let lost = 0;
    await b.page.routeWebSocket(/\/chat\//, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        if (lost === 0 && carriesRead(message)) {
          lost++;
          void server.close();
          void ws.close({ code: 1011, reason: "lost" });
          return;
        }
        server.send(message);
      });
    });
    await row(b.page, ann).click();
    await messages(b.page, "are you there?").waitFor();
    await expect.poll(() => lost, { timeout: 20_000 }).toBe(1);
    // The app reconnects; the server's welcome says the mark is behind, and the app sends it again.
    await expect.poll(() => tickOf(a.page, "are you there?").getAttribute("data-tick"), { timeout: 30_000 }).toBe("read");
  });
});
