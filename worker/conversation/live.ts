/**
 * Frames for every socket of the conversation. With many sockets they are sent at the end of the
 * current turn: under load the runtime delivers several sends before a timer fires, and their
 * events then leave as one websocket message per socket (a batch, PROTOCOL.md 3.1) instead of one
 * each, so the per-socket cost of a send is paid once per batch. With a few sockets (a DM, a small
 * group) a batch saves a few sends at most, less than the timer costs (a profile of 20 DMs put
 * 22 us a message in setTimeout alone), so their frames leave as soon as the event that made them
 * is done. Frames keep their order on every socket: a broadcast that skips someone, a replay, and
 * a new socket and a close from our side (flushQueued) each send the queue first. Never kept
 * across hibernation: a pending timer keeps the object awake.
 */
import type { ServerFrame } from "../../protocol";
import { broadcast, type Codecs } from "../sockets";

/** At most this many frames wait; more go at once. */
export const LIVE_BATCH = 50;
/** Up to this many sockets, frames leave at the end of the event instead of the turn. */
export const FEW_SOCKETS = 4;

export class LiveQueue {
  #frames: ServerFrame[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** A flush is due at the end of the current event (a microtask). */
  #soon = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly codecs: Codecs,
  ) {}

  /** To every socket, or all but `exceptUser`'s (those go at once, after the queue). */
  broadcast(frames: ServerFrame[], exceptUser?: string): void {
    if (exceptUser !== undefined) {
      this.flush();
      broadcast(this.ctx, this.codecs, frames, new Set(this.ctx.getWebSockets(exceptUser)));
      return;
    }
    this.#frames.push(...frames);
    if (this.#frames.length >= LIVE_BATCH) this.flush();
    else if (this.#timer !== null || this.#soon) return;
    else if (this.ctx.getWebSockets().length > FEW_SOCKETS) this.#timer = setTimeout(() => this.flush(), 0);
    else {
      this.#soon = true;
      queueMicrotask(() => this.flush());
    }
  }

  flush(): void {
    this.#soon = false;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#frames.length === 0) return;
    const frames = this.#frames;
    this.#frames = [];
    broadcast(this.ctx, this.codecs, frames);
  }
}
