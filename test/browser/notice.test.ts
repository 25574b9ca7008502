/**
 * A refused edit (the message was deleted meanwhile, from another tab) is told to the person in a
 * notice that screen readers announce and that can be dismissed, in English and in Chinese.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { act, messages, signUp, startDm } from "./steps";

const baseUrl = inject("baseUrl");

describe("refusal notices", () => {
  const me = uniqueName("rita");
  const peer = uniqueName("sam");
  let a: Awaited<ReturnType<typeof person>>;
  let b: Awaited<ReturnType<typeof person>>;
  let other: Page;

  beforeAll(async () => {
    a = await person(baseUrl);
    b = await person(baseUrl);
    await signUp(b.page, peer);
    await signUp(a.page, me);
    await startDm(a.page, peer);
    // A second tab of the same person, on the same conversation.
    other = await a.context.newPage();
    other.on("dialog", (d) => void d.accept());
    await other.goto(a.page.url());
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  /** Starts editing `text` in the first tab, deletes it in the second, then saves the edit. */
  async function editAfterDelete(text: string, actions: { edit: string; delete: string }): Promise<void> {
    await a.page.locator("#composer").fill(text); // by id: its label is in the chosen language
    await a.page.locator("#composer").press("Enter");
    const mine = messages(a.page, text);
    await mine.and(a.page.locator("[data-seq]")).waitFor(); // in the log, not only typed
    await act(a.page, text, actions.edit);
    await messages(other, text).waitFor();
    await act(other, text, actions.delete);
    await expect.poll(() => mine.count()).toBe(0); // shown as deleted in the first tab too
    await a.page.locator("#composer").fill(`${text}, edited`);
    await a.page.locator("#composer").press("Enter");
  }

  it("says so in English, and goes when dismissed", async () => {
    await editAfterDelete("edit me", { edit: "Edit", delete: "Delete" });
    const notice = a.page.getByRole("alert").filter({ hasText: "That message no longer exists." });
    await notice.waitFor();
    await notice.getByRole("button", { name: "Dismiss" }).click();
    await expect.poll(() => notice.count()).toBe(0);
    // Nothing changed on the server: the message stays deleted, with no edit.
    expect(await a.page.getByText("edit me, edited").count()).toBe(0);
  });

  it("says so in Chinese", async () => {
    for (const p of [a.page, other]) await p.getByLabel("Language").selectOption("zh");
    await editAfterDelete("再编辑一次", { edit: "编辑", delete: "删除" });
    const notice = a.page.getByRole("alert").filter({ hasText: "这条消息已不存在。" });
    await notice.waitFor();
    await notice.getByRole("button", { name: "关闭提示" }).click();
    await expect.poll(() => notice.count()).toBe(0);
    for (const p of [a.page, other]) await p.getByLabel("语言").selectOption("en");
  });
});
