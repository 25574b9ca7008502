import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import { useSignal } from "@preact/signals";
import { DEFAULT_LIMITS } from "../../../protocol";
import { t } from "../lib/i18n";
import { send } from "../models/app";
import { editing, replyingTo } from "../models/compose";
import type { ConversationSession } from "../models/session";

/** Enter sends, Shift+Enter breaks the line, Escape cancels a reply or an edit. */
export function Composer({ s }: { s: ConversationSession }) {
  const text = useSignal("");
  const ref = useRef<HTMLTextAreaElement>(null);
  const edit = editing.value;
  const reply = replyingTo.value;

  useEffect(() => {
    if (edit) text.value = edit.body;
  }, [edit]);

  useLayoutEffect(() => {
    // On a desktop, opening a conversation puts the cursor where one types (on a phone this
    // would throw up the keyboard uninvited).
    if (matchMedia("(min-width: 721px)").matches) ref.current?.focus();
    return () => { replyingTo.value = null; editing.value = null; };
  }, [s.id]);

  function cancel() {
    if (edit) text.value = "";
    editing.value = null;
    replyingTo.value = null;
  }

  function submit(e?: Event) {
    e?.preventDefault();
    const body = text.value;
    if (body.trim().length === 0) return;
    if (edit) {
      if (body !== edit.body) s.send({ t: "edit", target: edit.seq, body });
      editing.value = null;
    } else {
      void send(body, reply?.seq);
      replyingTo.value = null;
    }
    text.value = "";
    ref.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) submit(e);
    else if (e.key === "Escape") cancel();
  }

  return (
    <form class="composer" onSubmit={submit}>
      {(reply || edit) && (
        <div class="composing small">
          <span class="grow">
            {edit ? t("editing") : t("replyingTo", { name: reply!.from })}
            {reply && <span class="muted"> {reply.body.slice(0, 80)}</span>}
          </span>
          <button type="button" class="ghost small" onClick={cancel}>{t("cancel")}</button>
        </div>
      )}
      <div class="row">
        <label class="grow">
          <span class="sr-only">{t("message")}</span>
          <textarea
            id="composer"
            ref={ref}
            rows={1}
            value={text.value}
            maxLength={DEFAULT_LIMITS.bodyChars}
            placeholder={t("messagePlaceholder")}
            onInput={(e) => { text.value = e.currentTarget.value; s.typed(); }}
            onKeyDown={onKeyDown}
          />
        </label>
        <button type="submit" class="send">{edit ? t("save") : t("send")}</button>
      </div>
    </form>
  );
}
