/**
 * The socket gate. The Worker checks the session, the `Origin` and the conversation id, then hands
 * the upgrade to the object with the verified identity in headers the object trusts (objects are
 * reachable only through this Worker). The object itself checks membership.
 */
import { CLOSE } from "../../protocol";
import { conversations, users } from "../app";
import { authenticate, SESSION_EXPIRES_HEADER, type Caller } from "../auth/session";
import { allowedOrigins } from "../config";
import { ApiError } from "../errors";
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

export async function gate(request: Request, env: Env): Promise<{ refuse: Response } | { caller: Caller }> {
  if (!originAllowed(request, env)) return { refuse: refuseSocket(request, CLOSE.FORBIDDEN, "origin not allowed") };
  let caller: Caller | null;
  try {
    caller = await authenticate(request, env);
  } catch (err) {
    // An upgrade is an HTTP request too: over the caller's budget it is refused like an extra socket.
    if (err instanceof ApiError && err.status === 429) return { refuse: refuseSocket(request, CLOSE.TOO_MANY_SOCKETS, "too many requests") };
    throw err;
  }
  if (!caller) return { refuse: refuseSocket(request, CLOSE.UNAUTHORIZED, "not signed in") };
  return { caller };
}

/** The upgrade request as it goes on to an object: unchanged but for the verified identity. */
function withIdentity(request: Request, caller: Caller): Request {
  const headers = new Headers(request.headers);
  headers.set(IDENTITY_HEADERS.user, caller.user.username);
  headers.set(IDENTITY_HEADERS.session, caller.session);
  // For the objects' heartbeat sweeps: a socket is closed once its session expires (sessionExpired).
  headers.set(SESSION_EXPIRES_HEADER, String(caller.expires));
  return new Request(request, { headers });
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
  return users(env, checked.caller.user.username).fetch(withIdentity(request, checked.caller));
}
