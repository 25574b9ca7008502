/** Message text as text and safe links; avatars from names; the language from the browser. */
import { describe, expect, it } from "vitest";
import { colourIndex, initials } from "../../web/src/lib/avatar";
import { linkify, safeHref } from "../../protocol/text";
import { pickLang } from "../../web/src/lib/i18n";

describe("linkify", () => {
  it("makes links of http, https and mailto only", () => {
    expect(linkify("see https://example.com/a?b=1, or mail mailto:x@example.com.")).toEqual([
      { text: "see " },
      { text: "https://example.com/a?b=1", href: "https://example.com/a?b=1" },
      { text: ", or mail " },
      { text: "mailto:x@example.com", href: "mailto:x@example.com" },
      { text: "." },
    ]);
    expect(linkify("javascript:alert(1) data:text/html,<b>x</b> <img src=x onerror=alert(1)>")).toEqual([
      { text: "javascript:alert(1) data:text/html,<b>x</b> <img src=x onerror=alert(1)>" },
    ]);
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("HTTP://EXAMPLE.com")).toBe("http://example.com/");
  });

  it("keeps every character of the text", () => {
    const body = "a http://x.test/(y) b https://例子.测试/路径 c";
    expect(linkify(body).map((p) => p.text).join("")).toBe(body);
  });
});

describe("avatars", () => {
  it("takes initials from the name and a stable colour", () => {
    expect(initials("Alice Chen")).toBe("AC");
    expect(initials("bob")).toBe("BO");
    expect(initials("王伟")).toBe("王");
    expect(initials("  ")).toBe("?");
    expect(colourIndex("alice")).toBe(colourIndex("alice"));
    expect(new Set(["a", "b", "c", "d", "e", "f", "g", "h"].map(colourIndex)).size).toBeGreaterThan(3);
  });
});

describe("language", () => {
  it("follows the browser unless the person chose", () => {
    expect(pickLang(null, ["zh-CN", "en"])).toBe("zh");
    expect(pickLang(null, ["de-DE", "en-GB"])).toBe("en");
    expect(pickLang(null, ["fr"])).toBe("en");
    expect(pickLang("zh", ["en-US"])).toBe("zh");
  });
});
