/** Whether two lists name the same sessions, in any order (a member's lease as reported, and as it is now). */
export function sameSessions(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s) => b.includes(s));
}
