import { linkify } from "../lib/text";

/** Message text as text nodes and safe links, never as HTML. */
export function MessageText({ body }: { body: string }) {
  return (
    <>
      {linkify(body).map((p, i) =>
        "href" in p ? (
          <a key={i} href={p.href} target="_blank" rel="noopener noreferrer">{p.text}</a>
        ) : (
          p.text
        ),
      )}
    </>
  );
}
