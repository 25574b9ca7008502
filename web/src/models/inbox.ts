/**
 * The side bar's state: my conversations with unread counts and last messages, and who of the
 * people I share a conversation with is online. Fed by the inbox socket (PROTOCOL.md 3.2) and by
 * the open conversation's own socket, which is faster for the conversation on screen.
 */
import { batch, computed, signal } from "@preact/signals";
import type { InboxServerFrame, Message, Summary } from "../../../protocol";

export class InboxModel {
  readonly conversations = signal<Summary[]>([]);
  readonly online = signal<ReadonlySet<string>>(new Set());
  /** The inbox frame has arrived (or the list was loaded once). */
  readonly loaded = signal(false);
  readonly unreadTotal = computed(() => this.conversations.value.reduce((n, c) => n + c.unread, 0));

  receive(frame: InboxServerFrame): void {
    batch(() => {
      switch (frame.t) {
        case "inbox":
          this.conversations.value = sortByActivity(frame.conversations);
          this.online.value = new Set(frame.online);
          this.loaded.value = true;
          return;
        case "activity":
          return this.#update(frame.conv, (c) => ({
            ...c,
            lastSeq: Math.max(c.lastSeq, frame.seq),
            unread: frame.unread,
            mentions: frame.mentions ?? 0,
            last: c.last && c.last.seq > frame.seq ? c.last : { seq: frame.seq, id: "", from: frame.from, body: frame.preview, ts: frame.ts },
          }));
        case "read":
          return this.#update(frame.conv, (c) => ({ ...c, readSeq: Math.max(c.readSeq, frame.seq), unread: frame.unread, mentions: frame.mentions ?? 0 }));
        case "presence": {
          const next = new Set(this.online.value);
          if (frame.online) next.add(frame.username);
          else next.delete(frame.username);
          this.online.value = next;
          return;
        }
        case "joined":
          this.upsert(frame.conversation);
          return;
        case "left":
          // The room is gone for me (deleted, or I was removed): it leaves the list.
          this.remove(frame.conv);
          return;
        case "muted":
          // Muted or unmuted on another device (or tab): `Summary.muted` is absent when not muted.
          return this.#update(frame.conv, ({ muted: _m, ...c }) => (frame.muted ? { ...c, muted: true } : c));
        case "error":
          return;
        default:
          return; // a frame type added to the contract later (servers may add types)
      }
    });
  }

  /** The whole list, e.g. from GET /api/conversations after signing in. */
  replace(list: Summary[]): void {
    this.conversations.value = sortByActivity(list);
    this.loaded.value = true;
  }

  upsert(s: Summary): void {
    const others = this.conversations.value.filter((c) => c.id !== s.id);
    this.conversations.value = sortByActivity([s, ...others]);
  }

  /** I left this conversation. */
  remove(id: string): void {
    this.conversations.value = this.conversations.value.filter((c) => c.id !== id);
  }

  /** A message seen on the open conversation's socket. */
  sawMessage(conv: string, m: Message): void {
    this.#update(conv, (c) => (c.last && c.last.seq >= m.seq ? c : { ...c, last: m, lastSeq: Math.max(c.lastSeq, m.seq) }));
  }

  /** I read the open conversation up to `seq`. */
  markedRead(conv: string, seq: number): void {
    this.#update(conv, (c) => (c.readSeq >= seq && c.unread === 0 && !c.mentions ? c : { ...c, readSeq: Math.max(c.readSeq, seq), unread: 0, mentions: 0 }));
  }

  find(id: string): Summary | undefined {
    return this.conversations.value.find((c) => c.id === id);
  }

  #update(id: string, f: (c: Summary) => Summary): void {
    const list = this.conversations.value;
    const i = list.findIndex((c) => c.id === id);
    if (i < 0) return;
    const next = f(list[i]!);
    if (next === list[i]) return;
    const copy = [...list];
    copy[i] = next;
    this.conversations.value = sortByActivity(copy);
  }

  clear(): void {
    batch(() => {
      this.conversations.value = [];
      this.online.value = new Set();
      this.loaded.value = false;
    });
  }
}

function sortByActivity(list: Summary[]): Summary[] {
  return [...list].sort((a, b) => (b.last?.ts ?? 0) - (a.last?.ts ?? 0));
}
