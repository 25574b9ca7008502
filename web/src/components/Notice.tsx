import type { ErrorCode } from "../../../protocol";
import { t, type Key } from "../lib/i18n";
import type { ConversationSession } from "../models/session";

const TEXT: Partial<Record<ErrorCode, Key>> = {
  forbidden: "noticeForbidden",
  not_found: "noticeNotFound",
  full: "noticeFull",
  rate_limited: "noticeRateLimited",
};

/** The server refused an edit, a deletion or a reaction: a short notice, read out, until dismissed. */
export function Notice({ s }: { s: ConversationSession }) {
  const notice = s.model.notice.value;
  if (!notice) return null;
  return (
    // The key gives a repeated refusal a fresh element, so that it is announced again.
    <div key={notice.n} class="notice small" role="alert" data-code={notice.code}>
      <span class="grow">{t(TEXT[notice.code] ?? "errorGeneric")}</span>
      <button type="button" class="ghost small" onClick={() => s.model.dismissNotice()}>{t("dismiss")}</button>
    </div>
  );
}
