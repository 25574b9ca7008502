/**
 * An upper bound of the message seqs that have rows of some kind (reactions, files), kept so that
 * a page of messages lying wholly above it skips the query for them: most replays and pages have
 * none, and a reconnect's replay ran three queries where the bare object runs one (issue 17,
 * BENCHMARKS.md, twentieth session). Read once when first needed, raised before every such row is
 * written, never lowered: a row removed or rolled back leaves it high, which costs a query, never
 * a row missed.
 */
export class SeqCeiling {
  #upTo: number | undefined;

  /** `read`: the highest seq with such a row now (0: none). */
  constructor(private readonly read: () => number) {}

  /** A row for message `seq` is about to be written. */
  raise(seq: number): void {
    this.#upTo = Math.max(this.#current(), seq);
  }

  /** Whether every one of `seqs` lies above the bound (so none has such a row); true for none. */
  above(seqs: Iterable<number>): boolean {
    let lowest = Number.POSITIVE_INFINITY;
    for (const seq of seqs) if (seq < lowest) lowest = seq;
    return lowest > this.#current();
  }

  #current(): number {
    this.#upTo ??= this.read();
    return this.#upTo;
  }
}
