import { useSignal } from "@preact/signals";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import { DEFAULT_LIMITS } from "../../../protocol";
import { sizeText, textOf } from "../lib/files";
import { t } from "../lib/i18n";
import { OFFLINE_FILE_BYTES, send } from "../models/app";
import { attach, attachError, attached, editing, replyingTo } from "../models/compose";
import { loadDraft, saveDraft } from "../models/drafts";
import { nameOf } from "../models/names";
import type { ConversationSession } from "../models/session";
import { EmojiPicker } from "./EmojiPicker";
import { MentionList, mentionQuery, type Candidate } from "./MentionList";

const LIMIT = DEFAULT_LIMITS.bodyChars;
/** The counter shows from here on, so the limit never comes as a surprise. */
const COUNT_FROM = LIMIT - 500;

/**
 * Enter sends, Shift+Enter breaks the line, Escape cancels a reply or an edit, Up in an empty box
 * edits my last message. What is typed is kept as a draft of this conversation until sent.
 */
export function Composer({ s }: { s: ConversationSession }) {
  const text = useSignal(loadDraft(s.model.me, s.id));
  const caret = useSignal(0);
  const pick = useSignal(0);
  const ref = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const files = attached.value;
  const edit = editing.value;
  const reply = replyingTo.value;

  useEffect(() => {
    if (edit) text.value = edit.body;
  }, [edit]);

  useLayoutEffect(() => {
    // On a desktop, opening a conversation puts the cursor where one types (on a phone this
    // would throw up the keyboard uninvited).
    if (matchMedia("(min-width: 721px)").matches) ref.current?.focus();
    // Files dropped on the page while a conversation is open are attached to its message.
    const over = (e: DragEvent) => { if (e.dataTransfer?.types.includes("Files")) e.preventDefault(); };
    const drop = (e: DragEvent) => { const f = e.dataTransfer?.files; if (f?.length) { e.preventDefault(); attach(f); } };
    addEventListener("dragover", over);
    addEventListener("drop", drop);
    return () => {
      replyingTo.value = null;
      editing.value = null;
      attached.value = [];
      attachError.value = "";
      removeEventListener("dragover", over);
      removeEventListener("drop", drop);
    };
  }, [s.id]);

  function setText(v: string) {
    text.value = v;
    // An edit in progress is not a draft of a new message.
    if (!editing.value) saveDraft(s.model.me, s.id, v);
  }

  function cancel() {
    if (edit) text.value = loadDraft(s.model.me, s.id);
    editing.value = null;
    replyingTo.value = null;
  }

  function submit(e?: Event) {
    e?.preventDefault();
    const body = text.value;
    if ((body.trim().length === 0 && (edit || !files.length)) || body.length > LIMIT) return;
    if (edit) {
      if (body !== edit.body) s.send({ t: "edit", target: edit.seq, body });
      editing.value = null;
      text.value = loadDraft(s.model.me, s.id);
    } else {
      // Cleared at once (Enter twice sends once), put back if refused: offline with too much waiting.
      attached.value = [];
      attachError.value = "";
      void send(body, reply?.seq, files).then((sent) => {
        if (sent) return;
        attached.value = files;
        setText(body);
        attachError.value = t("offlineFull", { max: sizeText(OFFLINE_FILE_BYTES) });
      });
      replyingTo.value = null;
      setText("");
    }
    ref.current?.focus();
  }

  // @mention completion: the members whose username or name starts with what follows the "@".
  const query = mentionQuery(text.value, caret.value);
  const candidates: Candidate[] = query === null ? [] : s.model.members.value
    .filter((x) => x.username !== s.model.me && (x.username.startsWith(query.text.toLowerCase()) || x.name.toLowerCase().startsWith(query.text.toLowerCase())))
    .slice(0, 6)
    .map((x) => ({ username: x.username, name: x.name }));
  const chosen = candidates.length > 0 ? Math.min(pick.value, candidates.length - 1) : -1;

  function complete(c: Candidate) {
    if (!query) return;
    const before = text.value.slice(0, query.start);
    const after = text.value.slice(caret.value);
    const inserted = `@${c.username} `;
    setText(before + inserted + after);
    const at = before.length + inserted.length;
    caret.value = at;
    requestAnimationFrame(() => ref.current?.setSelectionRange(at, at));
    ref.current?.focus();
  }

  /** Puts text where the caret is (an emoji from the picker) and the caret after it. */
  function insert(piece: string) {
    const el = ref.current;
    const from = el?.selectionStart ?? text.value.length;
    const to = el?.selectionEnd ?? from;
    setText(text.value.slice(0, from) + piece + text.value.slice(to));
    const at = from + piece.length;
    caret.value = at;
    el?.focus();
    requestAnimationFrame(() => ref.current?.setSelectionRange(at, at));
  }

  function onKeyDown(e: KeyboardEvent) {
    if (candidates.length > 0 && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      pick.value = (chosen + (e.key === "ArrowDown" ? 1 : candidates.length - 1)) % candidates.length;
      return;
    }
    if (candidates.length > 0 && (e.key === "Enter" || e.key === "Tab") && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      const c = candidates[chosen];
      if (c) complete(c);
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) submit(e);
    else if (e.key === "Escape") cancel();
    else if (e.key === "ArrowUp" && text.value === "" && !edit) {
      // Up in an empty box: edit my last message (as in Slack and Telegram).
      const last = [...s.model.timeline.value].reverse().find((i) => i.kind === "msg" && i.message.from === s.model.me && !i.message.deleted);
      if (last?.kind === "msg") {
        e.preventDefault();
        replyingTo.value = null;
        editing.value = last.message;
      }
    }
  }

  const length = text.value.length;
  const over = length > LIMIT;
  return (
    <form class="composer" onSubmit={submit}>
      {(reply || edit) && (
        <div class="composing small">
          <span class="grow">
            {edit ? t("editing") : t("replyingTo", { name: nameOf(reply!.from) })}
            {reply && <span class="muted"> {textOf(reply).slice(0, 80)}</span>}
          </span>
          <button type="button" class="ghost small" onClick={cancel}>{t("cancel")}</button>
        </div>
      )}
      {candidates.length > 0 && <MentionList candidates={candidates} chosen={chosen} onPick={complete} />}
      {files.length > 0 && (
        <ul class="attached">
          {files.map((f) => (
            <li key={f} class="chip">
              {f.name} <span class="muted">{sizeText(f.size)}</span>
              <button type="button" class="ghost small" aria-label={t("removeFile", { name: f.name })} onClick={() => { attached.value = files.filter((x) => x !== f); }}>×</button>
            </li>
          ))}
        </ul>
      )}
      {attachError.value && <p class="error small" role="alert">{attachError.value}</p>}
      <div class="row">
        <EmojiPicker onPick={insert} />
        <button type="button" class="ghost" aria-label={t("attach")} onClick={() => picker.current?.click()}>📎</button>
        <input ref={picker} type="file" multiple hidden aria-label={t("attach")} onChange={(e) => { attach(e.currentTarget.files ?? []); e.currentTarget.value = ""; }} />
        <label class="grow">
          <span class="sr-only">{t("message")}</span>
          <textarea
            id="composer"
            ref={ref}
            rows={1}
            value={text.value}
            placeholder={t("messagePlaceholder")}
            aria-autocomplete="list"
            aria-controls={candidates.length > 0 ? "mention-list" : undefined}
            aria-activedescendant={chosen >= 0 ? `mention-${chosen}` : undefined}
            aria-invalid={over}
            aria-describedby={length >= COUNT_FROM ? "char-count" : undefined}
            onInput={(e) => { setText(e.currentTarget.value); caret.value = e.currentTarget.selectionStart; pick.value = 0; s.typed(); }}
            onKeyUp={(e) => { caret.value = e.currentTarget.selectionStart; }}
            onClick={(e) => { caret.value = e.currentTarget.selectionStart; }}
            onKeyDown={onKeyDown}
            // Pasted files (a screenshot, a copied image) are attached. Text goes in as usual, also
            // when a picture of it comes along (cells copied from a spreadsheet carry both).
            onPaste={(e) => { const d = e.clipboardData; if (d?.files.length && !d.types.includes("text/plain")) { e.preventDefault(); attach(d.files); } }}
          />
        </label>
        <button type="submit" class="send" disabled={over}>{edit ? t("save") : t("send")}</button>
      </div>
      {length >= COUNT_FROM && (
        <p id="char-count" class={`count small${over ? " error" : " muted"}`} aria-live="polite">
          {over ? t("tooLong", { n: length - LIMIT, limit: LIMIT }) : t("charsLeft", { n: LIMIT - length })}
        </p>
      )}
    </form>
  );
}
