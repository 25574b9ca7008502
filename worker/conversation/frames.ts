/**
 * The frames a member sends on a conversation socket: decoded within limits, validated, checked
 * for membership and against the sender's budgets, then applied to the log. A refused frame
 * changes nothing stored; too many refused frames in a minute close the socket (1008). A checked
 * `send` is stored with the others of its turn, in one commit (send-batch.ts).
 */
import { CLOSE, parseClientFrame, type ClientFrame, type ErrorCode, type Limits, type Message, type MsgFrame, type ServerFrame } from "../../protocol";
import { writeAttachment, type Attachment, type Codecs } from "../sockets";
import { BUDGET_OF, continuesReplay, type Budgets } from "./budgets";
import type { Notifier } from "./notify";
import type { ConversationFiles } from "./files";
import type { Moderation } from "./roles";
import type { SearchIndex } from "./search-index";
import { SendBatch, type PendingSend, type SendFrame } from "./send-batch";
import type { ConversationStore } from "./store";

/** Most distinct emoji on one message. */
export const MAX_REACTION_KINDS = 50;

/** What the handler needs of its object. */
export interface FrameContext {
  limits: Limits;
  readonly store: ConversationStore;
  readonly budgets: Budgets;
  readonly notifier: Notifier;
  readonly search: SearchIndex;
  readonly mod: Moderation;
  /** v1.1: uploaded files, attached by `send`. */
  readonly files: ConversationFiles;
  /** The other member of this DM blocks the sender (7.2). */
  blockedSender(username: string): boolean;
  codecsFor(): Codecs;
  reply(ws: WebSocket, a: Attachment, frame: ServerFrame): void;
  broadcastAll(frames: ServerFrame[], exceptUser?: string): void;
  replay(ws: WebSocket, a: Attachment, since: number): void;
  readMoved(username: string, seq: number): void;
  closeFrom(ws: WebSocket, code: number, reason: string): void;
  touchSocket(ws: WebSocket, a: Attachment, now: number): void;
}

/** The `msg` event of a message just stored (its files, if any, are the caller's to add). */
function messageFrame(from: string, frame: SendFrame, seq: number, ts: number): MsgFrame {
  const msg: MsgFrame = { t: "msg", seq, id: frame.id, from, body: frame.body, ts };
  if (frame.replyTo !== undefined) msg.replyTo = frame.replyTo;
  return msg;
}

export class FrameHandler {
  /** Checked sends waiting for their batch's one commit (send-batch.ts). */
  readonly #sends = new SendBatch((batch) => this.#storeSends(batch));

  constructor(private readonly c: FrameContext) {}

  handle(ws: WebSocket, a: Attachment, data: string | ArrayBuffer): void {
    const now = Date.now();
    const decoded = this.c.codecsFor().for(a.proto).decodeOne(data);
    if (!decoded.ok) {
      if (decoded.code === "too_large") return this.c.closeFrom(ws, CLOSE.TOO_LARGE, decoded.message);
      return this.#refuse(ws, a, now, decoded.code, decoded.message);
    }
    const parsed = parseClientFrame(decoded.value, this.c.limits);
    if (!parsed.ok) return this.#refuse(ws, a, now, parsed.code, parsed.message, parsed.id);
    // Membership is checked on every frame: someone who left is out at once.
    if (!this.c.store.isMember(a.user)) return this.c.closeFrom(ws, CLOSE.FORBIDDEN, "not a member of this conversation");
    this.c.touchSocket(ws, a, now);
    const frame = parsed.frame;
    const budget = BUDGET_OF[frame.t];
    const free = frame.t === "sync" && continuesReplay(ws, frame.since);
    if (!free && !this.#withinBudget(frame, a.user, now)) {
      // Typing indications over their budget are dropped silently: the next one says the same.
      if (budget === "typing") return;
      // A resent `send` already stored is answered again whatever the budget: that costs nothing.
      if (frame.t === "send" && this.#ackStored(ws, a, frame.id)) return;
      const id = frame.t === "send" ? frame.id : undefined;
      const message = budget === "write" ? `${frame.t}: too fast; ${frame.t === "send" ? "resend this id" : "try again"} later` : `${frame.t}: too many requests; try again later`;
      return this.#error(ws, a, "rate_limited", message, id);
    }
    this.#dispatch(ws, a, frame, now);
  }

  /**
   * Takes a token for the frame, but only for a frame that would change or read something: a
   * frame refused for another reason (no such message) costs its error, not the sender's budget.
   */
  #withinBudget(frame: ClientFrame, user: string, now: number): boolean {
    if ((frame.t === "edit" || frame.t === "delete" || frame.t === "react") && !this.c.store.message(frame.target)) return true;
    return this.c.budgets.take(user, BUDGET_OF[frame.t], now, this.c.limits);
  }

  /** Answers a bad frame with an error; too many in a minute close the socket (1008). */
  #refuse(ws: WebSocket, a: Attachment, now: number, code: ErrorCode, message: string, id?: string): void {
    if (now - a.badSince > 60_000) {
      a.bad = 0;
      a.badSince = now;
    }
    a.bad++;
    writeAttachment(ws, a);
    if (a.bad > this.c.limits.badFramesPerMinute) return this.c.closeFrom(ws, CLOSE.POLICY, "too many bad frames");
    this.#error(ws, a, code, message, id);
  }

  /**
   * Answers a resent `send` with its stored message's ack (`dup`), if the sender stored one with
   * this id; false otherwise. A resend is checked for only off the common path (the insert finds
   * it, or the send was refused): a new message costs no look-up.
   */
  #ackStored(ws: WebSocket, a: Attachment, id: string): boolean {
    const existing = this.c.store.findByClientId(a.user, id);
    if (existing) this.c.reply(ws, a, { t: "ack", id, seq: existing.seq, ts: existing.ts, dup: true });
    return existing !== null;
  }

  /**
   * A resend of a stored message: its ack again (`dup`) and the token its frame took given back,
   * so that a resend costs nothing. False when the sender stored nothing with this id.
   */
  #answerResend(ws: WebSocket, a: Attachment, id: string): boolean {
    if (!this.#ackStored(ws, a, id)) return false;
    this.c.budgets.giveBack(a.user, "write", this.c.limits);
    return true;
  }

  /**
   * Stores a batch of checked sends in one transaction (one commit), then acks each and sends the
   * new messages to everyone in one broadcast. A send whose id its sender already stored (a resend
   * that raced its original into the batch) gets that message's ack. If the transaction fails,
   * nothing of the batch is stored and each sender is told, by id, to send again. A send with
   * files comes alone (its attachment is written in its insert's transaction).
   */
  #storeSends(batch: PendingSend[]): void {
    const { store, files } = this.c;
    const insert = (p: PendingSend) => {
      // Someone who left (or was removed) since their send was checked is out at once, as for a frame.
      if (!store.isMember(p.a.user)) return undefined;
      const attached = p.frame.files;
      const attach = attached === undefined ? undefined : (seq: number) => files.attach(attached, p.a.user, seq);
      return store.insertMessage(p.a.user, p.frame.id, p.frame.body, p.frame.replyTo, p.now, attach);
    };
    let seqs: (number | null | undefined)[];
    try {
      // One statement needs no transaction of its own.
      seqs = batch.length === 1 ? [insert(batch[0]!)] : store.atomic(() => batch.map(insert));
    } catch (err) {
      // Log the kind of failure only: never a body or a token.
      console.error("ConversationObject: frame handler failed storing sends", err instanceof Error ? err.name : typeof err);
      for (const p of batch) this.#error(p.ws, p.a, "internal", "internal error", p.frame.id);
      return;
    }
    const messages: MsgFrame[] = [];
    for (const [i, p] of batch.entries()) {
      const seq = seqs[i];
      if (seq === undefined) {
        this.#error(p.ws, p.a, "forbidden", "not a member of this conversation", p.frame.id);
        continue;
      }
      if (seq === null) {
        // Already stored (a resend after a lost ack): answered again, free of charge.
        this.#answerResend(p.ws, p.a, p.frame.id);
        continue;
      }
      // Sent after the insert: the output gate holds it until the write is durable.
      this.c.reply(p.ws, p.a, { t: "ack", id: p.frame.id, seq, ts: p.now });
      const msg = messageFrame(p.a.user, p.frame, seq, p.now);
      if (p.frame.files !== undefined) msg.files = files.refs(p.frame.files);
      messages.push(msg);
    }
    const last = messages.at(-1);
    if (last === undefined) return;
    this.c.broadcastAll(messages);
    this.c.notifier.schedule();
    this.c.search.sent(last.seq);
  }

  /** Why `send` cannot store this message (blocked, a missing reply target, files), or null. */
  #sendProblem(a: Attachment, frame: SendFrame): { code: ErrorCode; message: string } | null {
    if (this.c.blockedSender(a.user)) return { code: "forbidden", message: "you cannot send to this person" };
    if (frame.replyTo !== undefined && !this.c.store.message(frame.replyTo)) return { code: "not_found", message: "replyTo: no such message" };
    // v1.1 files: the sender's own uploads here, not yet attached; attached in the insert's transaction.
    const fileProblem = frame.files === undefined ? null : this.c.files.problem(frame.files, a.user);
    return fileProblem === null ? null : { code: "invalid", message: fileProblem };
  }

  #error(ws: WebSocket, a: Attachment, code: ErrorCode, message: string, id?: string): void {
    this.c.reply(ws, a, id === undefined ? { t: "error", code, message } : { t: "error", code, message, id });
  }

  #dispatch(ws: WebSocket, a: Attachment, frame: ClientFrame, now: number): void {
    const { store } = this.c;
    switch (frame.t) {
      case "send": {
        const problem = this.#sendProblem(a, frame);
        if (problem !== null) {
          // A resend of a stored message gets its ack, whatever changed since (its files are
          // attached by then, its reply target may be gone).
          if (this.#answerResend(ws, a, frame.id)) return;
          return this.#error(ws, a, problem.code, problem.message, frame.id);
        }
        if (frame.files === undefined) return this.#sends.add({ ws, a, frame, now });
        // With files: alone, after the sends checked before it (attaching may fail for this one).
        this.#sends.flush();
        return this.#storeSends([{ ws, a, frame, now }]);
      }
      case "sync":
        return this.c.replay(ws, a, frame.since);
      case "read": {
        const seq = store.markRead(a.user, frame.seq);
        if (seq === null) return;
        this.c.broadcastAll([{ t: "receipt", username: a.user, seq }]);
        this.c.readMoved(a.user, seq);
        return;
      }
      case "typing":
        return this.c.broadcastAll([{ t: "typing", username: a.user }], a.user);
      case "history":
        return this.c.reply(ws, a, { t: "history", ...store.history(frame.before, frame.limit ?? 50) });
      case "edit": {
        if (!this.#ownMessage(ws, a, frame.target)) return;
        const seq = store.editMessage(frame.target, a.user, frame.body, now);
        this.c.broadcastAll([{ t: "edit", seq, target: frame.target, body: frame.body, ts: now }]);
        return;
      }
      case "delete": {
        // Admins and the owner of a room may delete anyone's message; the event then names them.
        const moderator = this.c.mod.canModerate(a.user);
        const m = this.#ownMessage(ws, a, frame.target, moderator);
        if (!m) return;
        const by = m.from !== a.user;
        const seq = store.deleteMessage(frame.target, a.user, now, by);
        this.c.broadcastAll([by ? { t: "delete", seq, target: frame.target, ts: now, by: a.user } : { t: "delete", seq, target: frame.target, ts: now }]);
        this.c.notifier.schedule();
        return;
      }
      case "react": {
        const target = store.message(frame.target);
        if (!target || target.deleted) return this.#error(ws, a, "not_found", "react: no such message");
        const known = target.reactions?.some((r) => r.emoji === frame.emoji) ?? false;
        if (frame.on && !known && store.reactionKinds(frame.target) >= MAX_REACTION_KINDS) {
          return this.#error(ws, a, "full", "react: too many different reactions on this message");
        }
        const seq = store.react(frame.target, a.user, frame.emoji, frame.on, now);
        if (seq !== null) {
          this.c.broadcastAll([{ t: "react", seq, target: frame.target, from: a.user, emoji: frame.emoji, on: frame.on, ts: now }]);
        }
        return;
      }
      default: {
        const unreachable: never = frame;
        return unreachable;
      }
    }
  }

  /** The target message if it exists, is not deleted and is the user's own (or `anyone`'s); else an error. */
  #ownMessage(ws: WebSocket, a: Attachment, seq: number, anyone = false): Message | null {
    const m = this.c.store.message(seq);
    if (!m || m.deleted) {
      this.#error(ws, a, "not_found", "no such message");
      return null;
    }
    if (m.from !== a.user && !anyone) {
      this.#error(ws, a, "forbidden", "only the author may change a message");
      return null;
    }
    return m;
  }
}
