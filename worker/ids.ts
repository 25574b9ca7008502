/** Conversation ids: opaque to clients, `d`/`r` and 32 hex digits here. */
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** The one DM between two people: derived from the pair, so asking twice finds the same one. */
export async function dmId(a: string, b: string): Promise<string> {
  const [x, y] = a < b ? [a, b] : [b, a];
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`dm\n${x}\n${y}`));
  return `d${hex(new Uint8Array(digest)).slice(0, 32)}`;
}

export function roomId(): string {
  return `r${hex(crypto.getRandomValues(new Uint8Array(16)))}`;
}
