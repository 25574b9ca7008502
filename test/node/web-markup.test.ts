/** The light formatting of message text, as data: what is formatted, what stays plain, nothing lost. */
import { describe, expect, it } from "vitest";
import { blocks, inline, mentions } from "../../protocol/markup";
import { linkify } from "../../protocol/text";

/** The text of pieces, formatting dropped. */
function flat(pieces: ReturnType<typeof inline>): string {
  return pieces.map((p) => ("children" in p ? flat(p.children) : p.text)).join("");
}

describe("markup", () => {
  it("formats *bold*, _italic_ and `code` whose marks hug the text", () => {
    expect(inline("a *b* _c_ `d`")).toEqual([
      { t: "text", text: "a " },
      { t: "b", children: [{ t: "text", text: "b" }] },
      { t: "text", text: " " },
      { t: "i", children: [{ t: "text", text: "c" }] },
      { t: "text", text: " " },
      { t: "code", text: "d" },
    ]);
  });

  it("leaves arithmetic, snake_case and lone marks alone", () => {
    for (const s of ["2 * 3 * 4", "snake_case_name", "a * b", "_ x _", "price*2*3"]) {
      expect(inline(s)).toEqual([{ t: "text", text: s }]);
    }
  });

  it("keeps markup in code as text, and HTML as text everywhere", () => {
    expect(inline("`*not bold*`")).toEqual([{ t: "code", text: "*not bold*" }]);
    expect(flat(inline("*<img src=x onerror=alert(1)>*"))).toBe("<img src=x onerror=alert(1)>");
  });

  it("cuts fenced code blocks out, with the language line dropped", () => {
    expect(blocks("before\n```js\nlet a = 1;\n```\nafter")).toEqual([
      { t: "p", inline: [{ t: "text", text: "before\n" }] },
      { t: "pre", text: "let a = 1;" },
      { t: "p", inline: [{ t: "text", text: "\nafter" }] },
    ]);
  });

  it("finds @mentions, not e-mail addresses, and links inside bold", () => {
    expect(mentions("hi @Ann and @bob_2, mail x@example.com")).toEqual(["ann", "bob_2"]);
    // The same rule as the highlight: each once, and never inside code or a link.
    expect(mentions("@ann *@Ann* `@bob` https://x.test/@carol\n```\n@dave\n```")).toEqual(["ann"]);
    expect(inline("*see https://example.com*")).toEqual([{ t: "b", children: [{ t: "text", text: "see " }, { t: "link", text: "https://example.com", href: "https://example.com/" }] }]);
  });

  it("keeps every character of the text outside code fences", () => {
    const body = "a *b* c _d_ e `f` @ghi https://x.test/_y_ www.example.org.";
    expect(flat(inline(body))).toBe(body.replaceAll("*", "").replaceAll("_d_", "d").replaceAll("`", ""));
  });
});

describe("www links", () => {
  it("makes https links of www. addresses, without the sentence's full stop", () => {
    expect(linkify("see www.example.com/a.")).toEqual([
      { text: "see " },
      { text: "www.example.com/a", href: "https://www.example.com/a" },
      { text: "." },
    ]);
    expect(linkify("a www. b")).toEqual([{ text: "a www. b" }]);
  });
});
