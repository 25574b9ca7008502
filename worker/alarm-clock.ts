/**
 * The object's one alarm, with its time remembered while awake: many things ask for it (every
 * socket opening, every debt written down) and most of them find it already set, so they cost no
 * storage read. After a wake the time is read once from storage.
 */
export class AlarmClock {
  #at: number | null | undefined;
  #setting: Promise<void> = Promise.resolve();

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Makes sure the alarm fires by `at`: sets it unless it is already due no later. */
  ensure(at: number): Promise<void> {
    return this.#inTurn((known) => (known !== null && known <= at ? known : at));
  }

  /**
   * Makes sure no alarm is set (nothing left for it to do): one storage read after a wake, then
   * nothing while it is known to be unset.
   */
  clear(): Promise<void> {
    return this.#inTurn(() => null);
  }

  /**
   * One change at a time, in order: `next` gets the alarm's time (read from storage when not
   * known) and says what it should be; a write is made only when that differs. A failed write
   * leaves the time unknown, to be read again.
   */
  #inTurn(next: (known: number | null) => number | null): Promise<void> {
    this.#setting = this.#setting.then(async () => {
      if (this.#at === undefined) this.#at = await this.storage.getAlarm();
      const want = next(this.#at);
      if (want === this.#at) return;
      this.#at = want;
      try {
        if (want === null) await this.storage.deleteAlarm();
        else await this.storage.setAlarm(want);
      } catch (err) {
        this.#at = undefined;
        throw err;
      }
    });
    const done = this.#setting;
    this.#setting = done.catch(() => {});
    return done;
  }

  /**
   * Sets the alarm to `at` whatever is remembered (the alarm handler re-arming: it does not trust
   * a remembered time, as the alarm that just fired is gone from storage).
   */
  rearm(at: number): Promise<void> {
    this.#at = at;
    return this.storage.setAlarm(at).catch((err: unknown) => {
      this.#at = undefined;
      throw err;
    });
  }

  /** The alarm fired: nothing is set until someone asks again. */
  fired(): void {
    this.#at = null;
  }
}
