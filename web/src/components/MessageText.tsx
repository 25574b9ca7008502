import type { ComponentChildren } from "preact";
import { blocks, type Inline } from "../../../protocol/markup";

/**
 * Message text with its light formatting (lib/markup.ts) built as elements, never parsed as HTML.
 * `me` marks mentions of the reader apart.
 */
export function MessageText({ body, me, tab }: { body: string; me?: string; tab?: number }) {
  return (
    <>
      {blocks(body).map((b, i) =>
        b.t === "pre" ? <pre key={i} class="code-block"><code>{b.text}</code></pre> : <span key={i}>{b.inline.map((x, j) => piece(x, j, me, tab))}</span>,
      )}
    </>
  );
}

/** `tab`: links leave the tab order unless their message is the list's active one. */
function piece(x: Inline, key: number, me: string | undefined, tab: number | undefined): ComponentChildren {
  switch (x.t) {
    case "text":
      return x.text;
    case "link":
      return <a key={key} href={x.href} tabIndex={tab} target="_blank" rel="noopener noreferrer">{x.text}</a>;
    case "mention":
      return <span key={key} class={`mention${x.user === me ? " me" : ""}`}>{x.text}</span>;
    case "code":
      return <code key={key} class="inline-code">{x.text}</code>;
    case "b":
      return <strong key={key}>{x.children.map((c, j) => piece(c, j, me, tab))}</strong>;
    case "i":
      return <em key={key}>{x.children.map((c, j) => piece(c, j, me, tab))}</em>;
    default: {
      const unreachable: never = x;
      return unreachable;
    }
  }
}
