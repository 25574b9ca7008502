/**
 * PROTOCOL.md 7.6, the routes of Web Push: the server's public key, and a browser's subscription
 * stored with (and dropped with) the session that registered it. The checks are in
 * push/subscription.ts; storage and sending in the user's object.
 */
import { createApp, users } from "../app";
import { ApiError, invalid } from "../errors";
import { vapidKeys } from "../push/keys";
import { checkEndpoint, checkSubscription, loopbackAllowed } from "../push/subscription";
import * as v from "../validate";

/** `GET /api/push/key`: no session needed (the app asks before anyone signs in, too). */
export const pushKey = createApp();
pushKey.get("/key", async (c) => {
  const { publicKey } = await vapidKeys(c.env);
  return c.json({ publicKey });
});

/** Routes under /api/me (mounted by routes/me.ts behind its session check). */
export function mePushRoutes(me: ReturnType<typeof createApp>): void {
  me.post("/push", async (c) => {
    const caller = c.get("caller");
    const sub = await checkSubscription(await v.jsonBody(c.req.raw), loopbackAllowed(c.env));
    if (!(await users(c.env, caller.user.username).subscribePush(caller.session, sub, new URL(c.req.url).origin))) {
      throw new ApiError(401, "unauthorized", "not signed in");
    }
    return c.body(null, 201);
  });

  me.delete("/push", async (c) => {
    const caller = c.get("caller");
    const body = await v.jsonBody(c.req.raw);
    for (const k of Object.keys(body)) if (k !== "endpoint") throw invalid(`unknown field ${JSON.stringify(k.slice(0, 32))}`);
    // Any endpoint that was ever accepted passes again (loopback included, so that one can be removed).
    const endpoint = checkEndpoint(body.endpoint, true);
    await users(c.env, caller.user.username).unsubscribePush(endpoint);
    return c.body(null, 204);
  });
}
