/**
 * A websocket that keeps itself up: it reconnects with backoff and jitter on every close but the
 * final codes (4401, 4403, 4404), pings every interval and reconnects when no `pong` came back
 * within two, and decodes every message (batches included) with the shared codec. The socket
 * constructor, the timers and the schedule are injected so that tests drive it without a network.
 */
import {
  createCodec,
  DecodeFailure,
  DEFAULT_LIMITS,
  FINAL_CLOSE_CODES,
  PING,
  PONG,
  SUBPROTOCOL_MSGPACK,
  SUBPROTOCOL_MSGPACK_SHORT,
  type Codec,
} from "../../../protocol";
import { backoffDelay } from "./backoff";
import { realTimers, type Timers } from "./timers";

/** What this client needs of a WebSocket (the browser's, or a fake in tests). */
export interface SocketLike {
  binaryType: BinaryType;
  /** The subprotocol the server answered with ("" when none), known once open. */
  readonly protocol: string;
  readonly readyState: number;
  send(data: string | Uint8Array<ArrayBuffer>): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
}

export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

/** `waiting`: closed, a reconnect is scheduled. `closed`: stopped, or refused for good. */
export type ConnState = "connecting" | "open" | "waiting" | "paused" | "closed";

export interface SocketOptions {
  /** Called before every attempt: the URL carries the latest `since`. */
  url: () => string;
  /** Every frame of one websocket message, decoded, in order. */
  onFrames: (values: unknown[]) => void;
  /** `answered`: the server has said something on this connection (one can open and never answer). */
  onState?: (state: ConnState, answered: boolean) => void;
  /** The server refused for good (a final close code): do not come back on our own. */
  onFinal?: (code: number) => void;
  heartbeatMs?: number;
  schedule?: (attempt: number) => number;
  create?: SocketFactory;
  timers?: Timers;
}

const OPEN = 1;

/** Offered smallest first; a server that knows no short names answers plain msgpack. */
const OFFERED = [SUBPROTOCOL_MSGPACK_SHORT, SUBPROTOCOL_MSGPACK];
const CODECS = {
  short: createCodec(SUBPROTOCOL_MSGPACK_SHORT, DEFAULT_LIMITS),
  msgpack: createCodec(SUBPROTOCOL_MSGPACK, DEFAULT_LIMITS),
};

export class ReconnectingSocket {
  readonly #o: SocketOptions;
  /** The codec of the open connection: the one the server chose of those offered. */
  #codec: Codec = CODECS.msgpack;
  readonly #create: SocketFactory;
  readonly #timers: Timers;
  readonly #schedule: (attempt: number) => number;
  #ws: SocketLike | null = null;
  #attempt = 0;
  #retry: unknown = null;
  #beat: unknown = null;
  #missed = 0;
  #state: ConnState = "closed";
  #answered = false;

  constructor(options: SocketOptions) {
    this.#o = options;
    this.#create = options.create ?? ((url, protocols) => new WebSocket(url, protocols));
    this.#timers = options.timers ?? realTimers;
    this.#schedule = options.schedule ?? ((n) => backoffDelay(n));
  }

  get state(): ConnState {
    return this.#state;
  }

  /** Opens the socket (again); resets the backoff. */
  start(): void {
    this.#clearRetry();
    this.#attempt = 0;
    if (this.#ws) return;
    this.#connect();
  }

  /** Sends one frame; false when the socket is not open (the caller keeps it for later). */
  send(frame: object): boolean {
    const ws = this.#ws;
    if (!ws || ws.readyState !== OPEN || this.#state !== "open") return false;
    try {
      const data = this.#codec.encode(frame);
      // A copy into a buffer of its own: encode() returns a view on the encoder's shared buffer.
      ws.send(typeof data === "string" ? data : new Uint8Array(data));
      return true;
    } catch {
      return false;
    }
  }

  /** The network went away: close now and wait for resume() instead of retrying in vain. */
  pause(): void {
    this.#teardown();
    this.#setState("paused");
  }

  resume(): void {
    if (this.#state === "paused" || this.#state === "waiting") this.start();
  }

  /** Stops for good (sign-out, conversation closed). */
  stop(): void {
    this.#teardown();
    this.#setState("closed");
  }

  #setState(s: ConnState): void {
    if (this.#state === s) return;
    this.#state = s;
    if (s !== "open") this.#answered = false;
    this.#o.onState?.(s, this.#answered);
  }

  #connect(): void {
    this.#setState("connecting");
    let ws: SocketLike;
    try {
      ws = this.#create(this.#o.url(), OFFERED);
    } catch {
      this.#scheduleRetry();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      // No answer means the server's default, plain msgpack.
      this.#codec = ws.protocol === SUBPROTOCOL_MSGPACK_SHORT ? CODECS.short : CODECS.msgpack;
      this.#missed = 0;
      this.#setState("open");
      this.#heartbeat();
    };
    ws.onmessage = (ev) => {
      if (this.#ws !== ws) return;
      this.#missed = 0;
      // A frame came through: the connection works, so the next failure starts the schedule over.
      this.#attempt = 0;
      if (!this.#answered) {
        this.#answered = true;
        this.#o.onState?.(this.#state, true);
      }
      const data: unknown = ev.data;
      if (data === PONG) return;
      if (typeof data !== "string" && !(data instanceof ArrayBuffer)) return;
      let values: unknown[];
      try {
        values = this.#codec.decodeAll(data);
      } catch (err) {
        if (err instanceof DecodeFailure) return; // a broken message is dropped, the socket stays
        throw err;
      }
      this.#o.onFrames(values);
    };
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#stopBeat();
      if (FINAL_CLOSE_CODES.has(ev.code)) {
        this.#setState("closed");
        this.#o.onFinal?.(ev.code);
        return;
      }
      this.#scheduleRetry();
    };
    ws.onerror = () => {
      // A close event always follows; reconnecting is decided there.
    };
  }

  #scheduleRetry(): void {
    this.#clearRetry();
    this.#setState("waiting");
    const delay = this.#schedule(this.#attempt++);
    this.#retry = this.#timers.setTimeout(() => {
      this.#retry = null;
      this.#connect();
    }, delay);
  }

  #heartbeat(): void {
    this.#stopBeat();
    const interval = this.#o.heartbeatMs ?? DEFAULT_LIMITS.heartbeatMs;
    this.#beat = this.#timers.setTimeout(() => {
      this.#beat = null;
      const ws = this.#ws;
      if (!ws) return;
      if (this.#missed >= 2) {
        // Two intervals without a pong: the connection is dead even if the browser has not noticed.
        this.#ws = null;
        try { ws.close(4000, "no heartbeat"); } catch { /* already closing */ }
        this.#scheduleRetry();
        return;
      }
      this.#missed++;
      try { ws.send(PING); } catch { /* the close event will follow */ }
      this.#heartbeat();
    }, interval);
  }

  #stopBeat(): void {
    if (this.#beat !== null) this.#timers.clearTimeout(this.#beat);
    this.#beat = null;
  }

  #clearRetry(): void {
    if (this.#retry !== null) this.#timers.clearTimeout(this.#retry);
    this.#retry = null;
  }

  #teardown(): void {
    this.#clearRetry();
    this.#stopBeat();
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      try { ws.close(1000, "bye"); } catch { /* already closed */ }
    }
  }
}
