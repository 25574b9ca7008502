/**
 * Frames for every socket of the conversation, sent at the end of the current turn. Under load the
 * runtime delivers several sends before a timer fires, and their events then leave as one
 * websocket message per socket (a batch, PROTOCOL.md 3.1) instead of one each: the per-socket cost
 * of a send is paid once per batch. Frames keep their order on every socket: a broadcast that skips
 * someone, a replay, and a new socket and a close from our side (flushQueued) each send the queue first. Never kept across
 * hibernation: a pending timer keeps the object awake.
 */
import type { ServerFrame } from "../../protocol";
import { broadcast, type Codecs } from "../sockets";

/** At most this many frames wait; more go at once. */
export const LIVE_BATCH = 50;

export class LiveQueue {
  #frames: ServerFrame[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;

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
    else this.#timer ??= setTimeout(() => this.flush(), 0);
  }

  flush(): void {
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
