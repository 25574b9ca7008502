/**
 * The composer: drafts per conversation across a switch and a reload; the length limit shown, not
 * silently applied; Up edits my last message; @mention completion; light formatting rendered as
 * elements, never as HTML.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { apiDm, apiRoom, apiSignup, sendAll } from "./seed";
import { messages, row, send, signUp } from "./steps";

const baseUrl = inject("baseUrl");

describe("the composer", () => {
  const me = uniqueName("dora");
  const ann = uniqueName("ann");
  const ben = uniqueName("ben");
  let a: Awaited<ReturnType<typeof person>>;

  beforeAll(async () => {
    a = await person(baseUrl);
    await signUp(a.page, me);
    const annToken = await apiSignup(baseUrl, ann, "Ann Archer");
    const benToken = await apiSignup(baseUrl, ben);
    await sendAll(baseUrl, annToken, await apiDm(baseUrl, annToken, me), ["hi from ann"]);
    await sendAll(baseUrl, benToken, await apiDm(baseUrl, benToken, me), ["hi from ben"]);
    await apiRoom(baseUrl, annToken, "Mentions", [me, ben]);
  });
  afterAll(async () => { await a?.close(); });

  const box = () => a.page.getByRole("textbox", { name: "Message" });

  it("keeps a draft per conversation across a switch and a reload", async () => {
    const page = a.page;
    await row(page, "Ann Archer").click();
    await messages(page, "hi from ann").waitFor();
    await box().fill("half a thought for ann");
    await row(page, ben).click();
    await messages(page, "hi from ben").waitFor();
    expect(await box().inputValue()).toBe("");
    await box().fill("a note for ben");
    await row(page, "Ann Archer").click();
    await expect.poll(() => box().inputValue()).toBe("half a thought for ann");
    await page.reload();
    await expect.poll(() => box().inputValue()).toBe("half a thought for ann");
    await row(page, ben).click();
    await expect.poll(() => box().inputValue()).toBe("a note for ben");
    // Sent: the draft is gone, also after a reload.
    await box().press("Enter");
    await messages(page, "a note for ben").waitFor();
    await page.reload();
    await messages(page, "a note for ben").waitFor();
    expect(await box().inputValue()).toBe("");
  });

  it("shows how much room is left near the limit, and refuses more instead of cutting", async () => {
    const page = a.page;
    await box().fill("x".repeat(3600));
    const count = page.locator("#char-count");
    expect(await count.textContent()).toBe("400 characters left");
    expect(await box().getAttribute("aria-describedby")).toBe("char-count");
    await box().fill("y".repeat(4010));
    expect(await box().inputValue()).toHaveLength(4010); // nothing cut off
    expect(await count.textContent()).toBe("10 characters too long (the limit is 4000)");
    expect(await box().getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    await box().press("Enter");
    expect(await box().inputValue()).toHaveLength(4010); // not sent
    await box().fill("");
    expect(await count.count()).toBe(0);
  });

  it("edits my last message with the Up key in an empty box", async () => {
    const page = a.page;
    await send(page, "teh typo");
    await messages(page, "teh typo").and(page.locator("[data-seq]")).waitFor();
    await box().press("ArrowUp");
    await page.getByText("Editing your message").waitFor();
    await expect.poll(() => box().inputValue()).toBe("teh typo");
    await box().fill("the typo");
    await box().press("Enter");
    await expect.poll(() => messages(page, "the typo").locator(".edited").count()).toBe(1);
  });

  it("completes an @mention from the members, by keyboard, and highlights it", async () => {
    const page = a.page;
    await row(page, "Mentions").click();
    await page.getByRole("heading", { level: 2, name: "# Mentions" }).waitFor();
    await box().fill("");
    await box().pressSequentially("thanks @an");
    const list = page.getByRole("listbox", { name: "Mention someone" });
    await list.waitFor();
    const option = list.getByRole("option", { name: `Ann Archer (@${ann})` });
    expect(await option.getAttribute("aria-selected")).toBe("true");
    expect(await box().getAttribute("aria-activedescendant")).toBe(await option.getAttribute("id"));
    await box().press("Enter"); // completes, does not send
    expect(await box().inputValue()).toBe(`thanks @${ann} `);
    await box().press("Enter");
    const mention = messages(page, "thanks").locator(".mention");
    await mention.waitFor();
    expect(await mention.textContent()).toBe(`@${ann}`);
  });

  it("renders *bold*, _italic_, `code`, fenced code and www. links as elements, never HTML", async () => {
    const page = a.page;
    await box().fill("*bold* and _slanted_ with `x < y` at www.example.com\n```\nlet a = '<b>';\n```\n*<img src=x onerror=alert(1)>*");
    await box().press("Enter");
    const m = messages(page, "bold and slanted");
    await m.and(page.locator("[data-seq]")).waitFor();
    expect(await m.locator("strong").first().textContent()).toBe("bold");
    expect(await m.locator("em").textContent()).toBe("slanted");
    expect(await m.locator("code.inline-code").textContent()).toBe("x < y");
    expect(await m.locator("pre.code-block").textContent()).toBe("let a = '<b>';");
    expect(await m.locator("a").getAttribute("href")).toBe("https://www.example.com/");
    expect(await m.locator("strong").nth(1).textContent()).toBe("<img src=x onerror=alert(1)>");
    expect(await page.locator(".messages img, .messages b").count()).toBe(0);
  });

  it("forgets the drafts on signing out", async () => {
    const page = a.page;
    await box().fill("a private half-sentence");
    const drafts = () => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("draft:")).length);
    expect(await drafts()).toBeGreaterThan(0);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await drafts()).toBe(0);
  });
});
