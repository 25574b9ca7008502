/** Whether two lists name the same sessions, in any order (a conversation's lease, a user's copy of it). */
export function sameSessions(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s) => b.includes(s));
}
