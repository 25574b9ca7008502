/**
 * The socket gate. The Worker checks the token's signature, the `Origin` and the conversation id,
 * then hands the upgrade to the object with the claimed identity in headers (objects are reachable
 * only through this Worker). The object checks that the session is live and the membership.
 */
import { CLOSE } from "../../protocol";
import { conversations, users } from "../app";
import { SESSION_EXPIRES_HEADER, sessionSecret, tokenOf } from "../auth/session";
import { verifyToken, type TokenClaims } from "../auth/token";
import { allowedOrigins } from "../config";
import { IDENTITY_HEADERS } from "../identity";
import { isUpgrade, refuseSocket } from "../sockets";
import { isConversationId } from "../validate";

/** A browser's upgrade must come from the app's own origin or one on the allow-list. */
export function originAllowed(request: Request, env: Env): boolean {
  const origin = request.headers.get("Origin");
  if (origin === null) return true; // not a browser: it authenticates with a bearer token
  const own = new URL(request.url).origin;
  return origin === own || allowedOrigins(env).includes(origin);
}

/**
 * The token's signature and expiry, checked here without a call: a forged or expired token never
 * reaches an object. Whether the session is still live (not signed out) is for the object the
 * socket goes to: the user object keeps sessions, and a conversation asks the member's object in
 * the call that also sets their presence lease (one call per upgrade, not two).
 */
export async function gate(request: Request, env: Env): Promise<{ refuse: Response } | { caller: TokenClaims }> {
  if (!originAllowed(request, env)) return { refuse: refuseSocket(request, CLOSE.FORBIDDEN, "origin not allowed") };
  const token = tokenOf(request);
  const claims = token ? await verifyToken(token, sessionSecret(env, new URL(request.url))) : null;
  if (!claims) return { refuse: refuseSocket(request, CLOSE.UNAUTHORIZED, "not signed in") };
  return { caller: claims };
}

/**
 * The upgrade request as it goes on to an object: its URL (the object reads `since`), the headers
 * an upgrade needs (`Upgrade`, the offered subprotocols) and the identity its token claims,
 * nothing else. The object never sees the token or the cookie, and a browser's dozen other
 * headers are not copied into a new request and carried into the object for every socket (in a
 * reconnect storm's profile, `chatSocket` went from 103 to 70 ms: BENCHMARKS.md, issue 17,
 * nineteenth session).
 */
function withIdentity(request: Request, caller: TokenClaims): Request {
  const headers: Record<string, string> = {
    Upgrade: "websocket",
    [IDENTITY_HEADERS.user]: caller.username,
    [IDENTITY_HEADERS.session]: caller.session,
    // For the objects' heartbeat sweeps: a socket is closed once its session expires (sessionExpired).
    [SESSION_EXPIRES_HEADER]: String(caller.expires),
  };
  const offered = request.headers.get("Sec-WebSocket-Protocol");
  if (offered !== null) headers["Sec-WebSocket-Protocol"] = offered;
  return new Request(request.url, { headers });
}

export async function chatSocket(request: Request, env: Env, id: string): Promise<Response> {
  if (!isUpgrade(request)) return new Response("expected a websocket upgrade", { status: 426 });
  const checked = await gate(request, env);
  if ("refuse" in checked) return checked.refuse;
  if (!isConversationId(id)) return refuseSocket(request, CLOSE.NOT_FOUND, "no such conversation");
  return conversations(env, id).fetch(withIdentity(request, checked.caller));
}

export async function inboxSocket(request: Request, env: Env): Promise<Response> {
  if (!isUpgrade(request)) return new Response("expected a websocket upgrade", { status: 426 });
  const checked = await gate(request, env);
  if ("refuse" in checked) return checked.refuse;
  return users(env, checked.caller.username).fetch(withIdentity(request, checked.caller));
}
