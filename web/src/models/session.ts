/**
 * One open conversation on the wire: its model, its socket (resuming from the last applied seq)
 * and its share of the outbox. The controller keeps one per conversation on screen, plus any that
 * still have messages to deliver.
 */
import { batch, signal } from "@preact/signals";
import { isRecord, parseServerFrame, TYPING_TTL_MS, type ClientFrame, type FileRef, type Message, type SendFrame, type Summary } from "../../../protocol";
import { ApiFailure } from "../lib/api";
import { backoffDelay } from "../lib/backoff";
import { pending, uploadFile, type PendingFile, type QueuedFile } from "../lib/files";
import type { Outbox, OutboxEntry } from "../lib/outbox";
import { ReconnectingSocket, type ConnState, type SocketFactory } from "../lib/socket";
import { ConversationModel, type Effect, type LocalMessage } from "./conversation";
import { learnNames } from "./names";

/** Upload refusals, as a message's failure: 413 too large, 415 a type not accepted, 429 the daily quota (or too fast). */
const UPLOAD_REFUSED: Record<number, string> = { 413: "too_large", 415: "unsupported", 429: "quota" };
/**
 * A send answered `error internal` was not stored (PROTOCOL.md section 4) and goes again by itself,
 * after the same growing pauses as a rate-limited one, this many times; then it shows as not sent.
 */
const INTERNAL_RESENDS = 3;

/** How often a `typing` frame may be sent while the person types. */
export const TYPING_EVERY_MS = 3000;

export interface SessionHooks {
  outbox: Outbox;
  user: string;
  socketUrl: (path: string) => string;
  onIncoming: (conv: string, m: Message) => void;
  onApplied: (conv: string) => void;
  /** A socket of this conversation was welcomed: `at` is the conversation as the server has it for me now. */
  onWelcome?: (conv: string, at: Summary) => void;
  /** Refused for good: 4401 (signed out), 4403 (not a member), 4404 (no such conversation). */
  onFinal: (conv: string, code: number) => void;
  create?: SocketFactory;
}

export class ConversationSession {
  readonly model: ConversationModel;
  readonly socket: ReconnectingSocket;
  readonly state = signal<ConnState>("closed");
  /** The open connection has been answered (ReconnectingSocket): open alone may never be. */
  readonly live = signal(false);
  /** A final close code, when the server refused this conversation. */
  readonly refused = signal<number | null>(null);
  /**
   * How many times the server welcomed this session's socket: a frame sent before the last
   * welcome went on a connection that is gone, and may have been lost with it.
   */
  welcomes = 0;
  /** A message to bring into view and highlight (a search result, a quoted reply); `n` tells repeats apart. */
  readonly target = signal<{ seq: number; n: number; highlight: boolean } | null>(null);
  /** My read mark when the conversation was opened with unread messages: the "new messages" divider goes after it. */
  readonly newAfter = signal<number | null>(null);
  /**
   * The person scrolled the list themselves since it was opened (wheel, touch, keys): a place
   * decided later (at the welcome) sets the divider but does not move the list.
   */
  movedByPerson = false;
  #lastTyping = 0;
  #typingTimer: ReturnType<typeof setTimeout> | null = null;
  /** Rate-limited sends waiting to go again: id → attempts so far. */
  #later = new Map<string, number>();
  #laterTimers = new Set<ReturnType<typeof setTimeout>>();
  /** The upload in progress (one at a time, in the order typed): its file and the share sent. */
  readonly upload = signal<{ file: PendingFile; done: number } | null>(null);
  #uploading: AbortController | null = null;
  #uploadFailures = 0;
  #stopped = false;

  constructor(readonly id: string, since: number | null, private readonly hooks: SessionHooks) {
    this.model = new ConversationModel(id, hooks.user, since);
    this.socket = new ReconnectingSocket({
      url: () => {
        const since = this.model.applied;
        return hooks.socketUrl(`/chat/${encodeURIComponent(id)}${since === null ? "" : `?since=${since}`}`);
      },
      onFrames: (values) => this.#frames(values),
      onState: (s, answered) => {
        batch(() => {
          this.state.value = s;
          this.live.value = answered;
        });
      },
      onFinal: (code) => {
        this.refused.value = code;
        hooks.onFinal(id, code);
      },
      ...(hooks.create ? { create: hooks.create } : {}),
    });
  }

  start(): void {
    this.#stopped = false;
    this.socket.start();
  }

  stop(): void {
    this.#stopped = true;
    this.#uploading?.abort();
    this.socket.stop();
    if (this.#typingTimer) clearTimeout(this.#typingTimer);
    for (const timer of this.#laterTimers) clearTimeout(timer);
    this.#laterTimers.clear();
  }

  /** Shows message `seq`: the view loads older pages until it is there, then scrolls to it. */
  reveal(seq: number, highlight = true): void {
    this.target.value = { seq, n: (this.target.value?.n ?? 0) + 1, highlight };
  }

  /** Shows the newest message: a target past the end, which the view reaches at the bottom. */
  revealEnd(): void {
    this.reveal(Number.POSITIVE_INFINITY, false);
  }

  send(frame: ClientFrame): boolean {
    return this.socket.send(frame);
  }

  #frames(values: unknown[]): void {
    for (const value of values) {
      const parsed = parseServerFrame(value);
      if (!parsed.ok) continue; // not a frame we know: the contract lets servers add types
      const frame = parsed.frame;
      // Newer servers name who joined (`name`, optional); the guard does not know it yet, so read it here.
      if (frame.t === "member" && isRecord(value) && typeof value.name === "string") learnNames([{ username: frame.username, name: value.name }]);
      if (frame.t === "welcome") this.welcomes++;
      const fx = this.model.receive(frame);
      if (frame.t === "welcome") {
        this.hooks.onWelcome?.(this.id, frame.conv);
        this.#flush();
        void this.#pump();
      }
      if (frame.t === "typing") this.#pruneLater();
      for (const e of fx) this.#effect(e);
    }
    this.hooks.onApplied(this.id);
  }

  #effect(e: Effect): void {
    switch (e.t) {
      case "sync":
        this.send({ t: "sync", since: e.since });
        return;
      case "history":
        if (!this.send(e.before === undefined ? { t: "history", limit: 50 } : { t: "history", before: e.before, limit: 50 })) {
          this.model.loadingHistory.value = false;
        }
        return;
      case "acked":
        this.#later.delete(e.id);
        void this.hooks.outbox.remove(e.id).catch(() => {});
        return;
      case "later":
        this.#sendLater(e.id, e.code);
        return;
      case "failed": {
        const m = this.model.local.value.find((x) => x.id === e.id);
        if (m) void this.hooks.outbox.put(this.#entry(m, e.code)).catch(() => {});
        return;
      }
      case "incoming":
        this.hooks.onIncoming(this.id, e.message);
        return;
      default: {
        const unreachable: never = e;
        return unreachable;
      }
    }
  }

  #entry(m: LocalMessage, failed?: string): OutboxEntry {
    const entry: OutboxEntry = { id: m.id, user: this.hooks.user, conv: this.id, body: m.body, created: m.created };
    if (m.replyTo !== undefined) entry.replyTo = m.replyTo;
    if (m.files) entry.files = m.files;
    if (failed !== undefined) entry.failed = failed;
    return entry;
  }

  /**
   * Sends a message again after a growing pause (from 1 s, at most 30 s): one refused as too
   * fast, or one the server failed to store (INTERNAL_RESENDS times, then it shows as not sent).
   * If the socket reopens first, the welcome resends it anyway; the same id keeps it stored once.
   */
  #sendLater(id: string, why: "rate_limited" | "internal"): void {
    const attempt = this.#later.get(id) ?? 0;
    if (why === "internal" && attempt >= INTERNAL_RESENDS) {
      // The server keeps failing to store it: say so, and leave it to the person to retry.
      this.#later.delete(id);
      const next = this.model.setLocal(id, (x) => ({ ...x, failed: why }));
      if (next) void this.#keep(next, why);
      return;
    }
    this.#later.set(id, attempt + 1);
    const timer = setTimeout(() => {
      this.#laterTimers.delete(timer);
      const m = this.model.unacked().find((x) => x.id === id);
      if (m) this.#sendMessage(m);
    }, backoffDelay(attempt, Math.random, { baseMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.5 }));
    this.#laterTimers.add(timer);
  }

  /** Every message still waiting for its ack, with its own id, in the order typed. */
  #flush(): void {
    for (const m of this.model.unacked()) this.#sendMessage(m);
  }

  /** A message's `send`, unless it still has files to upload: it goes when the last is up (#pump). */
  #sendMessage(m: LocalMessage): void {
    const files = m.files ?? [];
    const ids = files.filter((f): f is FileRef => !pending(f)).map((f) => f.id);
    if (ids.length < files.length) return;
    const frame: SendFrame = { t: "send", id: m.id, body: m.body };
    if (m.replyTo !== undefined) frame.replyTo = m.replyTo;
    if (ids.length) frame.files = ids;
    this.send(frame);
  }

  async #keep(m: LocalMessage, failed?: string): Promise<void> {
    await this.hooks.outbox.put(this.#entry(m, failed)).catch(() => {}); // no IndexedDB: still sent, not kept
  }

  /**
   * Uploads the files of my queued messages, one at a time, in the order typed; a message is sent
   * once its last file is up. Each finished upload is written to the outbox at once, so a reload
   * uploads again only what had not finished; an upload whose answer was lost leaves a file that is
   * never attached, which the server removes after a day. No network: tried again after a pause
   * (and on the next welcome). A refusal (413, 415, 429) marks the message failed, with why.
   */
  async #pump(): Promise<void> {
    while (!this.#uploading && !this.#stopped) {
      const m = this.model.unacked().find((x) => x.files?.some(pending));
      const file = m?.files?.find(pending);
      if (!m || !file) return;
      const stop = new AbortController();
      this.#uploading = stop;
      this.upload.value = { file, done: 0 };
      try {
        const ref = await uploadFile(this.id, file, (done) => { this.upload.value = { file, done }; }, stop.signal);
        this.#uploadFailures = 0;
        const next = this.model.setLocal(m.id, (x) => ({ ...x, files: (x.files ?? []).map((f) => (f === file ? ref : f)) }));
        if (next) {
          await this.#keep(next);
          this.#sendMessage(next);
        }
      } catch (err) {
        const status = err instanceof ApiFailure ? err.status : 0;
        if (status === 0 && !stop.signal.aborted) {
          const timer = setTimeout(() => { this.#laterTimers.delete(timer); void this.#pump(); }, backoffDelay(this.#uploadFailures++, Math.random, { baseMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.5 }));
          this.#laterTimers.add(timer);
          return;
        }
        // Aborted: the file was cancelled (the loop goes on) or the session stopped (it ends).
        if (status !== 0) {
          const code = UPLOAD_REFUSED[status] ?? (err instanceof ApiFailure ? err.code : "invalid");
          const next = this.model.setLocal(m.id, (x) => ({ ...x, failed: code }));
          if (next) await this.#keep(next, code);
        }
      } finally {
        this.#uploading = null;
        this.upload.value = null;
      }
    }
  }

  /** Takes a file out of a queued message, stopping its upload; a message left with nothing is dropped. */
  cancelFile(id: string, file: QueuedFile): void {
    if (this.upload.value?.file === file) this.#uploading?.abort();
    const next = this.model.setLocal(id, (m) => {
      const files = (m.files ?? []).filter((f) => f !== file);
      return files.length || m.body.trim() ? { ...m, files } : null;
    });
    if (!next) void this.hooks.outbox.remove(id).catch(() => {});
    else {
      void this.#keep(next, next.failed);
      if (next.failed === undefined) this.#sendMessage(next);
    }
  }

  /**
   * Typed: committed to the outbox first, then shown as sending and sent if the socket is up (else
   * on the next welcome). Shown only once stored, so whatever the person sees as "sending" survives
   * the tab being closed at once; the commit takes a few milliseconds.
   */
  async post(id: string, body: string, replyTo: number | undefined, files: QueuedFile[] = []): Promise<void> {
    const m: LocalMessage = { id, body, created: Date.now(), ...(replyTo === undefined ? {} : { replyTo }), ...(files.length ? { files } : {}) };
    await this.#keep(m);
    this.model.addLocal(m);
    this.#sendMessage(m);
    void this.#pump();
  }

  async retry(id: string): Promise<void> {
    const m = this.model.retry(id);
    if (!m) return;
    await this.#keep(m);
    this.#sendMessage(m);
    void this.#pump();
  }

  /** At most one `typing` every TYPING_EVERY_MS. */
  typed(now = Date.now()): void {
    if (now - this.#lastTyping < TYPING_EVERY_MS) return;
    if (this.send({ t: "typing" })) this.#lastTyping = now;
  }

  loadOlder(): void {
    for (const e of this.model.loadOlder()) this.#effect(e);
  }

  #pruneLater(): void {
    if (this.#typingTimer) return;
    this.#typingTimer = setTimeout(() => {
      this.#typingTimer = null;
      if (this.model.pruneTyping()) this.#pruneLater();
    }, TYPING_TTL_MS / 5);
  }

  /** Nothing left to deliver: the socket may go when the conversation is no longer on screen. */
  idle(): boolean {
    return this.model.unacked().length === 0;
  }
}
