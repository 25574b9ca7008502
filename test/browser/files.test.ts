/**
 * Files in the app (issue 15, PROTOCOL.md 7.4): a pasted image reaches the other person in a box
 * sized before a byte of it loads and opens full size in the viewer (keyboard too); a PDF arrives
 * as a chip that downloads the very same bytes; an upload in progress can be cancelled and then
 * never arrives; a file sent offline waits in the outbox and goes exactly once when back online,
 * and more than the outbox keeps for offline is refused in words.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import type { Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { unnamedControls } from "./a11y";
import { person, uniqueName } from "./browser";
import { messages, row, send, signUp, startDm, tickOf } from "./steps";

const baseUrl = inject("baseUrl");

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC[(c ^ x) & 255]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** A real, decodable PNG of one colour, `w` by `h` pixels. */
function png(w: number, h: number, rgb: [number, number, number]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const line = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => rgb).flat())]);
  const raw = Buffer.concat(Array.from({ length: h }, () => line));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

const PDF = Buffer.from(`%PDF-1.4\n% a report\n${"0123456789 ".repeat(400)}\n%%EOF\n`, "latin1");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Pastes files into the message box, as a screenshot from the clipboard is; `size` makes zeros. */
async function paste(page: Page, files: { name: string; type: string; data?: Buffer; size?: number }[]): Promise<void> {
  const list = files.map((f) => ({ name: f.name, type: f.type, data: f.data?.toString("base64") ?? null, size: f.size ?? 0 }));
  await page.getByRole("textbox", { name: "Message" }).evaluate((box, list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bytes = f.data === null ? new Uint8Array(f.size) : Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  }, list);
}

/** Chooses files through the attach button, with the keyboard. */
async function choose(page: Page, files: { name: string; mimeType: string; buffer: Buffer }[]): Promise<void> {
  const attach = page.getByRole("button", { name: "Attach files" });
  await attach.focus();
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), attach.press("Enter")]);
  await chooser.setFiles(files);
}

const FILE_GET = /\/api\/conversations\/[^/]+\/files\/[^/]+$/;
const UPLOAD = /\/api\/conversations\/[^/]+\/files$/;

describe("files and images", () => {
  const alice = uniqueName("fia");
  const bob = uniqueName("fib");
  let a: Awaited<ReturnType<typeof person>>;
  let b: Awaited<ReturnType<typeof person>>;
  let uploads = 0;

  beforeAll(async () => {
    a = await person(baseUrl);
    b = await person(baseUrl);
    await signUp(a.page, alice);
    await signUp(b.page, bob);
    await startDm(a.page, bob);
    await send(a.page, "hello");
    await row(b.page, alice).click();
    await messages(b.page, "hello").waitFor();
    // Uploads that reached the server (offline attempts fail before they leave the browser).
    a.context.on("requestfinished", (r) => { if (r.method() === "POST" && UPLOAD.test(r.url())) uploads++; });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("a pasted image appears for the other person in a box sized before it loads, and opens full size in the viewer", async () => {
    // Bob's image requests are held back: the boxes must have their size while nothing has loaded.
    const held: Route[] = [];
    await b.page.route(FILE_GET, (route) => { held.push(route); });
    await paste(a.page, [
      { name: "shot.png", type: "image/png", data: png(640, 480, [200, 40, 40]) },
      { name: "tall.png", type: "image/png", data: png(300, 600, [40, 40, 200]) },
    ]);
    await a.page.getByRole("button", { name: "Remove tall.png" }).waitFor();
    expect(await unnamedControls(a.page)).toEqual([]);
    await send(a.page, "two shots");

    const shot = b.page.getByRole("button", { name: "Open shot.png" });
    const tall = b.page.getByRole("button", { name: "Open tall.png" });
    await shot.waitFor();
    await expect.poll(() => held.length, { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await shot.locator("img").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(0);
    // 640×480 and 300×600 scaled into a 320 box: 320×240 and 160×320.
    expect(await shot.boundingBox()).toMatchObject({ width: 320, height: 240 });
    expect(await tall.boundingBox()).toMatchObject({ width: 160, height: 320 });
    const img = shot.locator("img");
    expect(await img.getAttribute("loading")).toBe("lazy");
    expect(await img.getAttribute("decoding")).toBe("async");

    for (const r of held) await r.continue();
    await b.page.unroute(FILE_GET);
    await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth), { timeout: 30_000 }).toBe(640);
    expect(await shot.boundingBox()).toMatchObject({ width: 320, height: 240 });

    // The viewer, by keyboard: Enter opens it, the arrows move between the message's images, Escape closes it.
    await shot.focus();
    await shot.press("Enter");
    const viewer = b.page.getByRole("dialog", { name: "shot.png (1/2)" });
    await viewer.waitFor();
    await expect.poll(() => viewer.getByRole("img", { name: "shot.png" }).evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(640);
    expect(await unnamedControls(b.page)).toEqual([]);
    await b.page.keyboard.press("ArrowRight");
    await b.page.getByRole("dialog", { name: "tall.png (2/2)" }).getByRole("img", { name: "tall.png" }).waitFor();
    // Escape straight after a move, as a quick hand does: the dialog must not open again behind it.
    await b.page.keyboard.press("ArrowRight");
    await b.page.keyboard.press("Escape");
    await viewer.waitFor({ state: "hidden" });
    expect(await b.page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Open shot.png");
    // With the mouse: the next-image button, and Close.
    await tall.click();
    await b.page.getByRole("dialog", { name: "tall.png (2/2)" }).getByRole("button", { name: "Next image" }).click();
    await viewer.getByRole("button", { name: "Close" }).click();
    await viewer.waitFor({ state: "hidden" });
    expect(await b.page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Open tall.png");
  });

  it("a PDF arrives as a chip that downloads the same bytes", async () => {
    // A file dropped on the conversation is attached too (and can be taken off again).
    const allowed = await a.page.locator(".messages").evaluate((el) => {
      const dt = new DataTransfer();
      dt.items.add(new File(["dropped"], "dropped.txt", { type: "text/plain" }));
      const over = el.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
      el.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
      return !over; // the page must cancel dragover, or the browser refuses the drop
    });
    expect(allowed).toBe(true);
    await a.page.getByRole("button", { name: "Remove dropped.txt" }).click();
    await a.page.getByRole("button", { name: "Remove dropped.txt" }).waitFor({ state: "hidden" });
    await choose(a.page, [{ name: "report.pdf", mimeType: "application/pdf", buffer: PDF }]);
    const box = a.page.getByRole("textbox", { name: "Message" });
    await box.press("Enter"); // no text: a message of files only
    const chip = b.page.getByRole("link", { name: /report\.pdf/ });
    await chip.waitFor();
    expect(await chip.textContent()).toContain("4 KB");
    expect(await unnamedControls(b.page)).toEqual([]);
    const [download] = await Promise.all([b.page.waitForEvent("download"), chip.click()]);
    expect(download.suggestedFilename()).toBe("report.pdf");
    const path = await download.path();
    expect(sha256(readFileSync(path))).toBe(sha256(PDF));
    // The side bar says what a message of files only is.
    await expect.poll(() => row(a.page, bob).textContent()).toContain("📎 report.pdf");
  });

  it("an upload in progress can be cancelled, and then nothing arrives", async () => {
    let holding: Route | null = null;
    await a.page.route(UPLOAD, (route) => { holding = route; });
    await paste(a.page, [{ name: "big.bin", type: "application/octet-stream", size: 3 << 20 }]);
    await a.page.getByRole("textbox", { name: "Message" }).press("Enter");
    const cancel = a.page.getByRole("button", { name: "Cancel big.bin" });
    await cancel.waitFor();
    await expect.poll(() => holding !== null, { timeout: 30_000 }).toBe(true);
    await a.page.getByRole("progressbar", { name: "big.bin" }).waitFor();
    expect(await unnamedControls(a.page)).toEqual([]);
    // Cancel stops the request itself, not only what is shown.
    const aborted = a.page.waitForEvent("requestfailed", (r) => UPLOAD.test(r.url()));
    await cancel.click();
    await aborted;
    await cancel.waitFor({ state: "hidden" });
    expect(await a.page.locator("li.msg.local").count()).toBe(0);
    await a.page.unroute(UPLOAD);
    await send(a.page, "after the cancel");
    await messages(b.page, "after the cancel").waitFor();
    expect(await b.page.getByText("big.bin").count()).toBe(0);
    // Nothing of it stayed in the outbox either: a reload sends nothing more.
    await a.page.reload();
    await messages(a.page, "after the cancel").waitFor();
    expect(await a.page.getByText("big.bin").count()).toBe(0);
  });

  it("a file sent offline waits in the outbox and goes exactly once when back online; too much is refused", async () => {
    const before = uploads;
    await a.context.setOffline(true);
    await a.page.getByRole("status").filter({ hasText: "offline" }).waitFor();
    // More than the outbox keeps for offline (25 MiB in all): refused in words, the files stay attached.
    await paste(a.page, [1, 2, 3].map((i) => ({ name: `part${i}.bin`, type: "application/octet-stream", size: 9 << 20 })));
    await send(a.page, "too much");
    await a.page.getByRole("alert").filter({ hasText: "would wait offline" }).waitFor();
    expect(await a.page.getByRole("button", { name: "Remove part3.bin" }).count()).toBe(1);
    for (const i of [1, 2, 3]) await a.page.getByRole("button", { name: `Remove part${i}.bin` }).click();

    await choose(a.page, [{ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("written on a train\n") }]);
    await send(a.page, "offline file");
    expect(await tickOf(a.page, "offline file").getAttribute("data-tick")).toBe("sending");
    // The page is closed while offline and opened again online: the file's bytes were kept in
    // IndexedDB, and the upload and then the message go once.
    const url = a.page.url();
    await a.page.close();
    await a.context.setOffline(false);
    const again = await a.context.newPage();
    await again.goto(url);
    const chip = b.page.getByRole("link", { name: /notes\.txt/ });
    await expect.poll(() => chip.count(), { timeout: 60_000 }).toBe(1);
    await expect.poll(() => tickOf(again, "offline file").getAttribute("data-tick"), { timeout: 30_000 }).toBe("read");
    expect(uploads - before).toBe(1);
    await b.page.reload();
    await messages(b.page, "offline file").waitFor();
    expect(await messages(b.page, "offline file").count()).toBe(1);
    expect(await b.page.getByRole("link", { name: /notes\.txt/ }).count()).toBe(1);
    expect(await messages(b.page, "too much").count()).toBe(0);
  });
});
