/**
 * The socket lifecycle both objects share, kept out of their application code the way
 * partyserver's `Server` does: refuse or accept a forwarded upgrade (hibernatable, tagged), guard
 * every runtime entry point (the attachment must be readable; a failing handler answers
 * `internal` and is logged by the kind of failure only), tell the subclass when a socket is gone
 * however it went, and sweep sockets that stopped answering the heartbeat.
 */
import { DurableObject } from "cloudflare:workers";
import { CLOSE, PING, PONG, type AnyServerFrame, type Limits } from "../protocol";
import { expiresFromHeader, sessionExpired } from "./auth/session";
import { limitsFromEnv } from "./config";
import { IDENTITY_HEADERS } from "./identity";
import { HTTP_WINDOW_MS, type RequestBudget, type SessionCheck } from "./user/account";
import {
  CODEC_TAGS,
  Codecs,
  isUpgrade,
  negotiated,
  notForwarded,
  protoOf,
  readAttachment,
  refuseSocket,
  tryClose,
  trySend,
  upgradeResponse,
  writeAttachment,
  type Attachment,
} from "./sockets";

/** Who a forwarded upgrade is for, as the Worker verified it. */
export interface Identity {
  user: string;
  session: string;
}

/** Why a socket is not served: its close code and a reason a person can read. */
export interface Refusal {
  code: number;
  reason: string;
}

/** What an upgrade takes from its caller's budget: one request, like any HTTP request. */
export function upgradeBudget(limits: Limits): RequestBudget {
  return { kind: "http", max: limits.httpPerMinute, windowMs: HTTP_WINDOW_MS };
}

/** The refusal for a session check that failed (over budget: try later; else: sign in), or null. */
export function sessionRefusal(check: SessionCheck): Refusal | null {
  if (check.ok) return null;
  return check.reason === "rate_limited" ? { code: CLOSE.TOO_MANY_SOCKETS, reason: "too many requests" } : { code: CLOSE.UNAUTHORIZED, reason: "not signed in" };
}

export abstract class SocketObject extends DurableObject<Env> {
  /** The limits in force; tests may lower one on a live instance. */
  limits: Limits;
  protected readonly codecs: Codecs;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.limits = limitsFromEnv(env);
    this.codecs = new Codecs(this.limits);
    // Answered by the runtime without waking the object: idle sockets cost no CPU.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  // ---- hooks -------------------------------------------------------------------------------------

  /** The tag that groups this socket with its owner's others (counted by `tooMany`). */
  protected abstract ownerTag(who: Identity): string;
  /** Why `who` may not open a socket here, or null; may wait for work the socket depends on. */
  protected abstract refusal(who: Identity, request: Request): Refusal | null | Promise<Refusal | null>;
  /**
   * The last word on an upgrade, once `refusal` and the socket cap have spoken (`refused`: what
   * they said, or null): a refusal that takes precedence over theirs, or null to keep it. The
   * conversation checks the session here, where the socket is known to be accepted otherwise.
   */
  protected admission(_who: Identity, _request: Request, _refused: Refusal | null): Refusal | null | Promise<Refusal | null> {
    return null;
  }
  /**
   * Sends what the object queued for its open sockets. Called right before a socket is accepted
   * (a new socket must not get it: its first frames cover it) and right before the object closes
   * one (the frames that explain the close must reach it first).
   */
  protected flushQueued(): void {}
  /** A socket was accepted: greet it. Runs before the 101 answer leaves. */
  protected abstract opened(ws: WebSocket, a: Attachment, request: Request): void | Promise<void>;
  /** A frame other than the heartbeat arrived. */
  protected abstract frame(ws: WebSocket, a: Attachment, data: string | ArrayBuffer): void;
  /** A socket ended: closed by either side, failed, or swept. Called once per socket per wake. */
  protected abstract gone(ws: WebSocket, a: Attachment): void;

  // ---- the lifecycle ---------------------------------------------------------------------------

  override async fetch(request: Request): Promise<Response> {
    const who = forwardedIdentity(request);
    if (!who) return notForwarded();
    // Refused on a plain pair, never accepted for hibernation: a hibernatable socket closed at
    // once lingers for seconds before the client sees the connection end, a plain one does not.
    const local = (await this.refusal(who, request)) ?? this.#tooMany(who);
    const refused = (await this.admission(who, request, local)) ?? local;
    if (refused) return refuseSocket(request, refused.code, refused.reason);
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    const now = Date.now();
    const attachment: Attachment = {
      user: who.user, session: who.session, proto: protoOf(negotiated(request).protocol), opened: now, seen: now, bad: 0, badSince: now,
    };
    const expires = expiresFromHeader(request);
    if (expires !== undefined) attachment.expires = expires;
    this.flushQueued();
    this.ctx.acceptWebSocket(server, [this.ownerTag(who), `s:${who.session}`, CODEC_TAGS[attachment.proto]]);
    writeAttachment(server, attachment);
    await this.opened(server, attachment, request);
    return upgradeResponse(client, request);
  }

  #tooMany(who: Identity): Refusal | null {
    if (this.openSockets(this.ownerTag(who)).length < this.limits.socketsPerUser) return null;
    return { code: CLOSE.TOO_MANY_SOCKETS, reason: "too many sockets for this user" };
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const a = readAttachment(ws);
    if (!a) return tryClose(ws, CLOSE.INTERNAL, "lost socket state");
    // Normally answered by the runtime; kept for pings that reach us while we are awake anyway.
    if (data === PING) return void trySend(ws, PONG);
    try {
      this.frame(ws, a, data);
    } catch (err) {
      // Log the kind of failure only: never a body or a token.
      console.error(`${this.constructor.name}: frame handler failed`, err instanceof Error ? err.name : typeof err);
      this.send(ws, a, { t: "error", code: "internal", message: "internal error" });
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Answer the client's close frame. web_socket_auto_reply_to_close (on at this compatibility
    // date) does not do it for hibernatable sockets in the workerd we run: without this reply the
    // client's close never completes (the socket-cap refusal test waits for it). Once answered,
    // a second close is a no-op. 1005/1006/1015 cannot be sent: 1000 then.
    tryClose(ws, code === 1005 || code === 1006 || code === 1015 ? CLOSE.NORMAL : code, reason);
    this.#ended(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.#ended(ws);
  }

  /** Sockets that have ended and been reported, so that a close after a sweep is not told twice. */
  readonly #reported = new WeakSet<WebSocket>();

  #ended(ws: WebSocket): void {
    if (this.#reported.has(ws)) return;
    this.#reported.add(ws);
    const a = readAttachment(ws);
    if (a) this.gone(ws, a);
  }

  /** Closes a socket from our side (with a code the client can read) and reports it gone. */
  protected closeSocket(ws: WebSocket, code: number, reason: string): void {
    this.flushQueued();
    tryClose(ws, code, reason);
    this.#ended(ws);
  }

  /**
   * Closes every socket silent for two heartbeat intervals (no frame and no answered ping: its
   * client is gone, and it must not count toward presence or the socket cap), and every socket
   * whose session has expired (it outlived the request that checked the session).
   */
  protected sweep(now: number): void {
    const limit = 2 * this.limits.heartbeatMs;
    for (const ws of this.ctx.getWebSockets()) {
      const a = readAttachment(ws);
      if (!a) {
        tryClose(ws, CLOSE.INTERNAL, "lost socket state");
        continue;
      }
      if (ws.readyState !== WebSocket.OPEN) continue;
      const pong = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
      if (sessionExpired(a, now)) this.closeSocket(ws, CLOSE.UNAUTHORIZED, "session expired");
      else if (now - Math.max(a.seen, a.opened, pong) > limit) this.closeSocket(ws, CLOSE.GOING_AWAY, "no heartbeat");
    }
  }

  /** Open sockets (a closing one is still listed by the runtime until the client answers). */
  protected openSockets(tag?: string): WebSocket[] {
    return this.ctx.getWebSockets(tag).filter((ws) => ws.readyState === WebSocket.OPEN && !this.#reported.has(ws));
  }

  protected send(ws: WebSocket, a: Attachment, frame: AnyServerFrame): void {
    trySend(ws, this.codecs.for(a.proto).encode(frame));
  }

  /**
   * Records that a frame arrived (the heartbeat sweep's evidence). Written at most once a second
   * (a quarter interval if that is shorter): a busy sender must not pay a write per frame.
   */
  protected touch(ws: WebSocket, a: Attachment, now: number): void {
    if (now - a.seen <= Math.min(1000, this.limits.heartbeatMs / 4)) return;
    a.seen = now;
    writeAttachment(ws, a);
  }
}

/** The identity the Worker put on a forwarded upgrade, or null if this is not one. */
export function forwardedIdentity(request: Request): Identity | null {
  const user = request.headers.get(IDENTITY_HEADERS.user);
  const session = request.headers.get(IDENTITY_HEADERS.session);
  if (!isUpgrade(request) || !user || !session) return null;
  return { user, session };
}
