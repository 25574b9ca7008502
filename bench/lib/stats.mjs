// Latency samples and percentiles, kept in growable typed arrays (a 1 000-member room yields
// hundreds of thousands of samples a second).
export class Samples {
  #a = new Float64Array(1024);
  n = 0;
  push(v) {
    if (this.n === this.#a.length) {
      const b = new Float64Array(this.#a.length * 2);
      b.set(this.#a);
      this.#a = b;
    }
    this.#a[this.n++] = v;
  }
  /** Percentiles (0-100) in ms, rounded to 0.01 ms; null when there are no samples. */
  percentiles(...ps) {
    if (this.n === 0) return ps.map(() => null);
    const s = this.#a.slice(0, this.n).sort();
    return ps.map((p) => Math.round(s[Math.min(this.n - 1, Math.floor((p / 100) * this.n))] * 100) / 100);
  }
  summary() {
    const [p50, p99, max] = this.percentiles(50, 99, 100);
    return { n: this.n, p50, p99, max };
  }
}

export const round = (v, digits = 0) => (v === null || v === undefined || Number.isNaN(v) ? null : Math.round(v * 10 ** digits) / 10 ** digits);
