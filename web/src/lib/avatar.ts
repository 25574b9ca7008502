/** Avatars made from the name alone: initials and one of a fixed set of colours (CSS classes, as the CSP allows no inline styles). */
export const AVATAR_COLOURS = 12;

export function initials(name: string): string {
  const words = name.trim().split(/[\s_\-.]+/).filter(Boolean);
  if (words.length === 0) return "?";
  const first = [...words[0]!][0] ?? "?";
  // CJK names read best as their first character alone.
  if (/[\u3400-\u9fff]/.test(first)) return first;
  const second = words.length > 1 ? ([...words[1]!][0] ?? "") : ([...words[0]!][1] ?? "");
  return (first + second).toUpperCase();
}

export function colourIndex(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % AVATAR_COLOURS;
}
