/**
 * Rooms beyond the first steps: a display name at sign-up, finding and joining a public room in
 * the directory (private ones stay out of it), and leaving a room.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { person, uniqueName } from "./browser";
import { keptTitles, messages, PASSWORD, row, send, signUp, toSignUp } from "./steps";

const baseUrl = inject("baseUrl");

describe("rooms and names", () => {
  const ada = uniqueName("ada");
  const ben = uniqueName("ben");
  // Titles no other test file uses: the directory is shared by the whole run.
  const tag = uniqueName("t");
  const garden = `Garden ${tag}`;
  const secret = `Secret ${tag}`;
  let a: Awaited<ReturnType<typeof person>>;
  let b: Awaited<ReturnType<typeof person>>;

  beforeAll(async () => {
    a = await person(baseUrl);
    b = await person(baseUrl);
    await signUp(b.page, ben);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("signs up with a display name that others see", async () => {
    const page = a.page;
    await toSignUp(page);
    await page.getByLabel("Username").fill(ada);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByLabel("Name", { exact: true }).fill("Ada Lovelace");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await expect.poll(() => page.getByRole("navigation").locator(".side-head .strong").textContent()).toBe("Ada Lovelace");
    // A DM is titled with the other person's display name.
    await b.page.getByRole("button", { name: "New DM" }).click();
    await b.page.getByLabel("Their username").fill(ada);
    await b.page.getByRole("button", { name: "Start", exact: true }).click();
    await b.page.getByRole("heading", { level: 2, name: "Ada Lovelace", exact: true }).waitFor();
    await send(b.page, "nice name");
    await expect.poll(() => row(a.page, ben).count(), { timeout: 20_000 }).toBe(1);
  });

  it("finds a public room by its title and joins it from the list", async () => {
    for (const [title, isPrivate] of [[garden, false], [secret, true]] as const) {
      await a.page.getByRole("button", { name: "New room" }).click();
      await a.page.getByLabel("Room name").fill(title);
      if (isPrivate) await a.page.getByLabel("Private (invitation only)").check();
      await a.page.getByRole("button", { name: "Create", exact: true }).click();
      await a.page.getByRole("heading", { level: 2, name: `# ${title}` }).waitFor();
    }

    const page = b.page;
    await page.getByRole("button", { name: "Browse rooms" }).click();
    const search = page.getByRole("searchbox", { name: "Search public rooms" });
    const listed = page.getByRole("list", { name: "Browse rooms" }).locator(".room-title");
    // Unfiltered, newest first: the public room is there, the private one is not.
    await expect.poll(() => listed.allTextContents()).toContain(`# ${garden}`);
    expect(await listed.allTextContents()).not.toContain(`# ${secret}`);

    await search.fill(tag);
    await expect.poll(() => listed.allTextContents()).toEqual([`# ${garden}`]);
    await search.fill(`Secret ${tag}`);
    await page.getByText("No public rooms found.").waitFor();
    await search.fill(`garden ${tag}`.toUpperCase().slice(0, 3)); // "GAR": part of a title, any case
    await expect.poll(() => listed.allTextContents()).toContain(`# ${garden}`);
    await search.fill(tag);
    await expect.poll(() => listed.allTextContents()).toEqual([`# ${garden}`]);

    await page.getByRole("button", { name: `Join ${garden}` }).click();
    await page.getByRole("heading", { level: 2, name: `# ${garden}` }).waitFor();
    await expect.poll(() => row(page, garden).count()).toBe(1);
    // The directory is closed again, and the others see the join.
    expect(await page.getByRole("searchbox", { name: "Search public rooms" }).count()).toBe(0);
    await row(a.page, garden).click();
    await expect.poll(() => a.page.locator("li.system", { hasText: `${ben} joined` }).count()).toBe(1);

    // Listed again, a room I am in offers to open it instead.
    await page.getByRole("button", { name: "Browse rooms" }).click();
    await page.getByRole("searchbox", { name: "Search public rooms" }).fill(tag);
    await page.getByRole("button", { name: `Open ${garden}` }).waitFor();
    await page.getByRole("button", { name: "Browse rooms" }).click();
  });

  it("leaves a room: it goes from the side bar, and the others see the leave", async () => {
    const page = b.page;
    await send(a.page, "before the leave");
    await messages(page, "before the leave").waitFor();
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Members", exact: true }).click();
    await page.getByRole("button", { name: "Leave room" }).click();
    await expect.poll(() => row(page, garden).count()).toBe(0);
    // The list the app keeps shows first on its next start, before the server answers: it drops
    // the room at once, not with the next second's writes, or a reload right now brings it back.
    const keptList = await keptTitles(page, ben);
    expect(keptList.length).toBeGreaterThan(0);
    expect(keptList).not.toContain(garden);
    await expect.poll(() => page.getByRole("heading", { level: 2, name: `# ${garden}` }).count()).toBe(0);
    await expect.poll(() => a.page.locator("li.system", { hasText: `${ben} left` }).count()).toBe(1);
    // Gone on the server too: a fresh load does not bring it back, and the DM is still there.
    await page.reload();
    await row(page, "Ada Lovelace").waitFor();
    // The list converges: an inbox opening asks every conversation, and one that no longer has
    // me is dropped from the list it answers for.
    await expect.poll(() => row(page, garden).count()).toBe(0);
    // Messages in the room no longer reach the one who left.
    await send(a.page, "after the leave");
    await messages(a.page, "after the leave").waitFor();
    expect(await page.getByText("after the leave").count()).toBe(0);
  });
});
