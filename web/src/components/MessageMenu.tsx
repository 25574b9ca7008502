import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import type { Message } from "../../../protocol";
import { t } from "../lib/i18n";
import { editing, menuFor, replyingTo } from "../models/compose";
import { nameOf } from "../models/names";
import { canModerate } from "../models/roles";
import type { ConversationSession } from "../models/session";

/** The reactions offered in the menu: a row wide enough for most feelings, short enough for a phone. */
export const REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀", "🔥", "✅", "👏", "🤔"];

/**
 * A message's actions as a menu (opened by its ⋯ button, a tap on a phone, a long press, a right
 * click, or Enter on the focused message): arrow keys move, Escape closes and gives the focus back
 * to the message. It floats over the list, so opening it moves nothing.
 */
export function MessageMenu({ s, m }: { s: ConversationSession; m: Message }) {
  const ref = useRef<HTMLDivElement>(null);
  const mine = m.from === s.model.me;
  // Admins and the owner of a room may delete anyone's message (7.3); the server checks it again.
  const summary = s.model.summary.value;
  const moderator = summary?.kind === "room" && canModerate(summary.role);

  // Near the bottom of the list it opens upwards, so that it is not cut off by the list's edge.
  // The focus moves in before the menu is painted: moved after (an effect), an Escape pressed as
  // soon as the menu showed went to the page and left it open (a CI run of the browser tests).
  useLayoutEffect(() => {
    const el = ref.current;
    const list = el?.closest(".messages");
    if (el && list && el.getBoundingClientRect().bottom > list.getBoundingClientRect().bottom) el.classList.add("up");
    el?.querySelector<HTMLElement>("[role=menuitem]")?.focus();
  }, []);

  useEffect(() => {
    const el = ref.current;
    // A press anywhere else closes it.
    const away = (e: PointerEvent) => {
      if (e.target instanceof Node && !el?.contains(e.target) && !(e.target instanceof Element && e.target.closest(`[data-menu-for="${m.seq}"]`))) close(false);
    };
    document.addEventListener("pointerdown", away);
    return () => document.removeEventListener("pointerdown", away);
  }, []);

  function close(refocus = true) {
    menuFor.value = null;
    if (refocus) document.getElementById(`m-${s.id}-${m.seq}`)?.focus();
  }

  function onKeyDown(e: KeyboardEvent) {
    const items = [...(ref.current?.querySelectorAll<HTMLElement>("[role=menuitem]") ?? [])];
    const focused = document.activeElement;
    const at = focused instanceof HTMLElement ? items.indexOf(focused) : -1;
    const move = (i: number) => { e.preventDefault(); items[(i + items.length) % items.length]?.focus(); };
    if (e.key === "ArrowDown" || e.key === "ArrowRight") move(at + 1);
    else if (e.key === "ArrowUp" || e.key === "ArrowLeft") move(at - 1);
    else if (e.key === "Home") move(0);
    else if (e.key === "End") move(items.length - 1);
    else if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); close(); }
    else if (e.key === "Tab") close(false);
  }

  const act = (f: () => void) => () => { close(false); f(); };
  const react = (emoji: string) => {
    const on = !(m.reactions?.find((r) => r.emoji === emoji)?.users.includes(s.model.me) ?? false);
    s.send({ t: "react", target: m.seq, emoji, on });
    close();
  };

  return (
    <div class="menu" role="menu" aria-label={t("actions")} ref={ref} onKeyDown={onKeyDown}>
      <fieldset class="menu-emoji">
        <legend class="sr-only">{t("react")}</legend>
        {REACTIONS.map((e) => (
          <button key={e} type="button" role="menuitem" tabIndex={-1} class="ghost emoji" aria-label={t("reactWith", { emoji: e })} onClick={() => react(e)}>{e}</button>
        ))}
      </fieldset>
      <button type="button" role="menuitem" tabIndex={-1} class="ghost" onClick={act(() => { editing.value = null; replyingTo.value = m; focusComposer(); })}>{t("reply")}</button>
      <button type="button" role="menuitem" tabIndex={-1} class="ghost" onClick={act(() => void navigator.clipboard?.writeText(m.body).catch(() => {}))}>{t("copyText")}</button>
      {mine && <button type="button" role="menuitem" tabIndex={-1} class="ghost" onClick={act(() => { replyingTo.value = null; editing.value = m; focusComposer(); })}>{t("edit")}</button>}
      {(mine || moderator) && (
        <button type="button" role="menuitem" tabIndex={-1} class="ghost danger"
          onClick={act(() => { if (confirm(mine ? t("confirmDelete") : t("confirmModDelete", { name: nameOf(m.from) }))) s.send({ t: "delete", target: m.seq }); })}>
          {t("delete")}
        </button>
      )}
    </div>
  );
}

export function focusComposer() {
  document.getElementById("composer")?.focus();
}
