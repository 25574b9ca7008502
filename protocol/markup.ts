/**
 * The little formatting people type anyway, as data the view turns into elements: ``` fenced code
 * blocks, `code`, *bold*, _italic_, links and @mentions. Never HTML: the view builds every node
 * itself, so a message can only ever produce these few kinds of element with text inside.
 *
 * Shared by the app and the server (no DOM here): what the app highlights as a mention of someone
 * is exactly what the server counts in that person's mention badge (`mentions` below).
 */
import { linkify } from "./text";

export type Inline =
  | { t: "text"; text: string }
  | { t: "link"; text: string; href: string }
  | { t: "mention"; text: string; user: string }
  | { t: "code"; text: string }
  | { t: "b" | "i"; children: Inline[] };

export type Block = { t: "pre"; text: string } | { t: "p"; inline: Inline[] };

const FENCE = /```(?:[^\n`]*\n)?([\s\S]*?)```/g;
// `code`, then *bold* and _italic_ whose marks hug the text (so "2 * 3 * 4" and snake_case_names stay plain).
const INLINE = /`([^`\n]+)`|(?<![\p{L}\p{N}*])\*(?=\S)([^*\n]*?\S)\*(?![\p{L}\p{N}*])|(?<![\p{L}\p{N}_])_(?=\S)([^_\n]*?\S)_(?![\p{L}\p{N}_])/gu;
/** Usernames are 3-32 of a-z 0-9 _ - (PROTOCOL.md 1); typed in any case. */
const MENTION = /(?<![\p{L}\p{N}_@.])@([A-Za-z0-9_-]{3,32})/gu;

export function blocks(body: string): Block[] {
  const out: Block[] = [];
  let at = 0;
  for (const m of body.matchAll(FENCE)) {
    const start = m.index ?? 0;
    if (start > at) out.push({ t: "p", inline: inline(body.slice(at, start)) });
    out.push({ t: "pre", text: (m[1] ?? "").replace(/\n$/, "") });
    at = start + m[0].length;
  }
  if (at < body.length || out.length === 0) out.push({ t: "p", inline: inline(body.slice(at)) });
  return out;
}

export function inline(text: string): Inline[] {
  const out: Inline[] = [];
  const links = linkRanges(text);
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    const start = m.index ?? 0;
    // Marks that begin inside a URL are part of it (https://x.test/_y_), not formatting.
    if (links.some(([from, to]) => start >= from && start < to)) continue;
    if (start > at) out.push(...plain(text.slice(at, start)));
    if (m[1] !== undefined) out.push({ t: "code", text: m[1] });
    else if (m[2] !== undefined) out.push({ t: "b", children: plain(m[2]) });
    else out.push({ t: "i", children: plain(m[3] ?? "") });
    at = start + m[0].length;
  }
  if (at < text.length) out.push(...plain(text.slice(at)));
  return out;
}

/** Where the links of `text` are, as [start, end) offsets. */
function linkRanges(text: string): [number, number][] {
  const out: [number, number][] = [];
  let at = 0;
  for (const piece of linkify(text)) {
    if ("href" in piece) out.push([at, at + piece.text.length]);
    at += piece.text.length;
  }
  return out;
}

/** Text with links and mentions; links first, so an @ inside a URL stays part of it. */
function plain(text: string): Inline[] {
  const out: Inline[] = [];
  for (const piece of linkify(text)) {
    if ("href" in piece) {
      out.push({ t: "link", text: piece.text, href: piece.href });
      continue;
    }
    let at = 0;
    for (const m of piece.text.matchAll(MENTION)) {
      const start = m.index ?? 0;
      if (start > at) out.push({ t: "text", text: piece.text.slice(at, start) });
      out.push({ t: "mention", text: m[0], user: (m[1] ?? "").toLowerCase() });
      at = start + m[0].length;
    }
    if (at < piece.text.length) out.push({ t: "text", text: piece.text.slice(at) });
  }
  return out;
}

/**
 * The usernames a message mentions, each once, lower case: the mentions the app highlights, so
 * not those inside code or a link. The `@` test first keeps the common case (no mention) cheap.
 */
export function mentions(body: string): string[] {
  if (!body.includes("@")) return [];
  const out = new Set<string>();
  const walk = (xs: Inline[]): void => {
    for (const x of xs) {
      if (x.t === "mention") out.add(x.user);
      else if (x.t === "b" || x.t === "i") walk(x.children);
    }
  };
  for (const b of blocks(body)) if (b.t === "p") walk(b.inline);
  return [...out];
}
