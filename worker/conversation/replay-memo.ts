/**
 * The replays of the log after a seq, read and encoded once while the log stays as it is. After a
 * deploy or a network blip every socket of a room comes back at once, and those that were live
 * hold the same seq: ten sockets of a room of ten asked for the same page ten times, one query and
 * one encode each (issue 17: the query and its encoding were a sixth of the CPU a reconnect storm
 * spent before every socket was synced; BENCHMARKS.md, twenty-first session).
 *
 * Why keying by the log's last seq is enough: whatever changes what a replay from `since` shows
 * (a message, an edit, a deletion, a reaction, a file attached with its message, a member or room
 * event) appends an event, so the last seq moves and every page kept is dropped. The object drops
 * the memo itself where its storage is erased (the seqs start over).
 *
 * Bounded: a few pages (by `since`), and only while their encoded bytes stay under a budget, so a
 * quiet room does not hold large pages for nothing. Each page also keeps its events, for a socket
 * of another codec: about as much again as the budget counts.
 */
import type { EventFrame } from "../../protocol";

export type ReplayPayload = string | Uint8Array;

interface Page {
  /** The last event of the page (`since` when it is empty). */
  readonly upTo: number;
  readonly events: readonly EventFrame[];
  /** The page's wire messages, by the codec they were encoded for. */
  readonly encoded: Map<string, readonly ReplayPayload[]>;
}

export interface Replay {
  readonly upTo: number;
  readonly payloads: readonly ReplayPayload[];
}

const bytesOf = (payloads: readonly ReplayPayload[]): number =>
  payloads.reduce((n, p) => n + (typeof p === "string" ? p.length * 2 : p.byteLength), 0);

export class ReplayMemo {
  #lastSeq = -1;
  /** By `since`, oldest first (the first is dropped to make room). */
  readonly #pages = new Map<number, Page>();
  #bytes = 0;

  constructor(
    private readonly maxPages = 4,
    private readonly maxBytes = 512 * 1024,
  ) {}

  /**
   * The replay after `since` while the log ends at `lastSeq`, for `codec`: `read` gives the page's
   * events and `encode` turns them into wire messages, each called only when no kept page has them.
   */
  replay(
    since: number,
    lastSeq: number,
    codec: string,
    read: () => readonly EventFrame[],
    encode: (events: readonly EventFrame[]) => readonly ReplayPayload[],
  ): Replay {
    if (lastSeq !== this.#lastSeq) {
      this.clear();
      this.#lastSeq = lastSeq;
    }
    let page = this.#pages.get(since);
    if (!page) {
      const events = read();
      page = { upTo: events.length > 0 ? events[events.length - 1]!.seq : since, events, encoded: new Map() };
    }
    let payloads = page.encoded.get(codec);
    if (!payloads) {
      payloads = encode(page.events);
      this.#keep(since, page, codec, payloads);
    }
    return { upTo: page.upTo, payloads };
  }

  /** Forgets every page (the storage was erased). */
  clear(): void {
    this.#pages.clear();
    this.#bytes = 0;
    this.#lastSeq = -1;
  }

  #keep(since: number, page: Page, codec: string, payloads: readonly ReplayPayload[]): void {
    const bytes = bytesOf(payloads);
    // Room for it: the oldest other pages go first.
    for (const k of [...this.#pages.keys()]) {
      const fits = this.#bytes + bytes <= this.maxBytes && (this.#pages.has(since) || this.#pages.size < this.maxPages);
      if (fits) break;
      if (k !== since) this.#drop(k);
    }
    if (this.#bytes + bytes > this.maxBytes) return;
    this.#pages.set(since, page);
    page.encoded.set(codec, payloads);
    this.#bytes += bytes;
  }

  #drop(since: number): void {
    const page = this.#pages.get(since);
    if (!page) return;
    for (const p of page.encoded.values()) this.#bytes -= bytesOf(p);
    this.#pages.delete(since);
  }
}
