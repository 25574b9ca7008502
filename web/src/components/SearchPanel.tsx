import { textOf } from "../lib/files";
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { Message } from "../../../protocol";
import { day, time } from "../lib/format";
import { t } from "../lib/i18n";
import { search } from "../models/app";
import { panel } from "../models/compose";
import { nameOf } from "../models/names";
import type { ConversationSession } from "../models/session";
import { MessageText } from "./MessageText";

export function SearchPanel({ s }: { s: ConversationSession }) {
  const results = useSignal<Message[] | null>(null);
  const error = useSignal("");
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const form = e.currentTarget;
    if (!(form instanceof HTMLFormElement)) return;
    const q = String(new FormData(form).get("q") ?? "").trim();
    if (!q) return;
    // The server finds words of three characters or more (a trigram index): say so before asking.
    if ([...q].length < 3) {
      error.value = t("searchTooShort");
      return;
    }
    error.value = "";
    try {
      results.value = await search(q);
    } catch {
      error.value = t("errorGeneric");
    }
  }

  /** Goes to the result, loading older messages until it is there; on a phone the panel covers the list, so it closes. */
  function jump(seq: number) {
    if (matchMedia("(max-width: 720px)").matches) panel.value = null;
    s.reveal(seq);
  }

  return (
    <aside class="panel" aria-label={t("search")} onKeyDown={(e) => closeOnEscape(e, "toggle-search")}>
      <div class="panel-head">
        <h3>{t("search")}</h3>
        <button type="button" class="ghost" aria-label={t("close")} onClick={() => { panel.value = null; }}>×</button>
      </div>
      <form class="search" onSubmit={submit}>
        <label>
          <span class="sr-only">{t("searchLabel")}</span>
          <input name="q" type="search" placeholder={t("searchLabel")} required maxLength={200} ref={input} />
        </label>
        <button type="submit">{t("search")}</button>
      </form>
      {error.value && <p class="error small" role="alert">{error.value}</p>}
      {results.value && (
        <ul class="results" aria-live="polite">
          {results.value.length === 0 && <li class="muted">{t("noResults")}</li>}
          {results.value.map((m) => (
            <li key={m.seq}>
              <button type="button" class="result" onClick={() => jump(m.seq)}>
                <span class="muted small">{nameOf(m.from)} · {day(m.ts)} {time(m.ts)}</span>
                <span class="result-body"><MessageText body={textOf(m)} me={s.model.me} tab={-1} /></span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </aside>
  );
}

/** Escape closes a side panel and gives the focus back to the button that opened it. */
export function closeOnEscape(e: KeyboardEvent, opener: string): void {
  if (e.key !== "Escape") return;
  e.preventDefault();
  panel.value = null;
  document.getElementById(opener)?.focus();
}
