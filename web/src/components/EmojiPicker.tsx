import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { t } from "../lib/i18n";

/** Common emoji, a screenful: no data file to download, the system font draws them. */
const EMOJI = "😀 😂 🙂 😉 😍 😘 😎 🤔 😅 😭 😢 😮 😡 🥳 😴 🙃 👍 👎 👏 🙏 💪 👀 👋 🤝 ❤️ 🔥 🎉 ✅ ❌ ⭐ ☕ 🍕 🍻 🚀 💡 📌 ⏰ 🌧️ ☀️ 🎂".split(" ");

/**
 * The composer's emoji button and its grid: arrow keys move, Enter inserts, Escape closes and
 * gives the focus back to the button.
 */
export function EmojiPicker({ onPick }: { onPick: (emoji: string) => void }) {
  const open = useSignal(false);
  const button = useRef<HTMLButtonElement>(null);
  const grid = useRef<HTMLFieldSetElement>(null);

  useEffect(() => {
    if (open.value) grid.current?.querySelector<HTMLButtonElement>("button")?.focus();
  }, [open.value]);

  function close() {
    open.value = false;
    button.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent) {
    const items = [...(grid.current?.querySelectorAll<HTMLButtonElement>("button") ?? [])];
    const focused = document.activeElement;
    const at = focused instanceof HTMLButtonElement ? items.indexOf(focused) : 0;
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 8, ArrowUp: -8 }[e.key];
    if (step !== undefined) {
      e.preventDefault();
      items[(at + step + items.length) % items.length]?.focus();
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  }

  return (
    <div class="emoji-picker">
      <button type="button" ref={button} class="ghost emoji-toggle" aria-label={t("insertEmoji")} aria-expanded={open.value} aria-controls="emoji-grid"
        onClick={() => { open.value = !open.value; }}>
        <span aria-hidden="true">🙂</span>
      </button>
      {open.value && (
        <fieldset id="emoji-grid" class="emoji-grid" ref={grid} onKeyDown={onKeyDown}>
          <legend class="sr-only">{t("insertEmoji")}</legend>
          {EMOJI.map((e) => (
            <button key={e} type="button" class="ghost" onClick={() => { onPick(e); open.value = false; }}>{e}</button>
          ))}
        </fieldset>
      )}
    </div>
  );
}
