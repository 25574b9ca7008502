import { t } from "../lib/i18n";
import { Avatar } from "./Avatar";

export interface Candidate {
  username: string;
  name: string;
}

/** The "@word" being typed just before the caret, if any: where it starts and what follows the @. */
export function mentionQuery(text: string, caret: number): { start: number; text: string } | null {
  const m = /(?:^|\s)@([A-Za-z0-9_-]{0,32})$/.exec(text.slice(0, caret));
  if (!m) return null;
  const word = m[1] ?? "";
  return { start: caret - word.length - 1, text: word };
}

/**
 * Members to mention, under the composer: arrows choose, Enter or Tab completes (the textarea keeps
 * the focus and points at the chosen option with aria-activedescendant), a click completes too.
 */
export function MentionList({ candidates, chosen, onPick }: { candidates: Candidate[]; chosen: number; onPick: (c: Candidate) => void }) {
  return (
    <div id="mention-list" class="mentions-list" role="listbox" aria-label={t("mentionSomeone")}>
      {candidates.map((c, i) => (
        <div key={c.username} id={`mention-${i}`} role="option" tabIndex={-1} aria-label={`${c.name} (@${c.username})`} aria-selected={i === chosen} class={i === chosen ? "chosen" : ""}
          // mousedown, not click: the textarea must not lose the focus (and its caret) first.
          onMouseDown={(e) => { e.preventDefault(); onPick(c); }}>
          <Avatar name={c.name} small />
          <span>{c.name}</span>
          <span class="muted small">@{c.username}</span>
        </div>
      ))}
    </div>
  );
}
