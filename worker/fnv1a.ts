/**
 * FNV-1a, 32 bits, of a string's UTF-16 code units: a stable, even spread, not a secret (limiter
 * shards, schema fingerprints, a member's share of a lease).
 */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
