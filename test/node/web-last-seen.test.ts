/** "last seen …" in both languages, by how long ago (issue 14). */
import { afterEach, describe, expect, it } from "vitest";
import { presence } from "../../web/src/lib/format";
import { lang } from "../../web/src/lib/i18n";

const NOW = new Date(2026, 11, 2, 18, 30).getTime();
const MIN = 60_000;

describe("presence in words", () => {
  afterEach(() => {
    lang.value = "en";
  });

  it("says online, offline when unknown, or when they were last seen", () => {
    lang.value = "en";
    expect(presence(true, NOW - MIN, NOW)).toBe("online");
    expect(presence(false, undefined, NOW)).toBe("offline");
    expect(presence(false, NOW - 20_000, NOW)).toBe("last seen just now");
    expect(presence(false, NOW - 5 * MIN, NOW)).toBe("last seen 5 min ago");
    expect(presence(false, new Date(2026, 11, 2, 9, 5).getTime(), NOW)).toMatch(/^last seen at 0?9:05/);
    expect(presence(false, new Date(2026, 11, 1, 18, 2).getTime(), NOW)).toMatch(/^last seen yesterday at (18:02|0?6:02\s?PM)$/);
    expect(presence(false, new Date(2026, 10, 20, 8, 0).getTime(), NOW)).toMatch(/^last seen Nov 20 /);
  });

  it("in Chinese", () => {
    lang.value = "zh";
    expect(presence(false, NOW - 5 * MIN, NOW)).toBe("最后上线：5 分钟前");
    expect(presence(false, new Date(2026, 11, 1, 18, 2).getTime(), NOW)).toBe("最后上线：昨天 18:02");
    expect(presence(true, undefined, NOW)).toBe("在线");
  });
});
