/**
 * Message text into pieces the view renders as text nodes and links: never as HTML. Only http,
 * https and mailto links are made; anything else stays plain text.
 */
export type Piece = { text: string } | { text: string; href: string };

// `www.` alone starts a link too (as people type them); it is made an https link.
const LINK = /\b(?:https?:\/\/[^\s<>"']+|mailto:[^\s<>"']+|www\.[^\s<>"'.]+\.[^\s<>"']+)/gi;
// Punctuation that usually ends a sentence rather than a URL.
const TRAILING = /[.,;:!?)\]}'"。，；：！？）】」]+$/;

export function safeHref(raw: string): string | null {
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" || url.protocol === "mailto:" ? url.href : null;
  } catch {
    return null;
  }
}

export function linkify(body: string): Piece[] {
  const out: Piece[] = [];
  let at = 0;
  for (const match of body.matchAll(LINK)) {
    const start = match.index ?? 0;
    let raw = match[0];
    const trail = TRAILING.exec(raw);
    if (trail) raw = raw.slice(0, raw.length - trail[0].length);
    const href = safeHref(/^www\./i.test(raw) ? `https://${raw}` : raw);
    if (!href || raw.length === 0) continue;
    if (start > at) out.push({ text: body.slice(at, start) });
    out.push({ text: raw, href });
    at = start + raw.length;
  }
  if (at < body.length) out.push({ text: body.slice(at) });
  return out;
}
