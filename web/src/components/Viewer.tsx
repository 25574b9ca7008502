import { useLayoutEffect, useRef } from "preact/hooks";
import { fileUrl } from "../lib/files";
import { t } from "../lib/i18n";
import { viewing } from "../models/compose";

/**
 * One message's images full size, in a modal dialog: Escape closes it (the browser's own), the
 * arrow keys move between the images, and the focus goes back to the image that opened it.
 */
export function Viewer() {
  const v = viewing.value;
  return v ? <Dialog v={v} /> : null;
}

function Dialog({ v }: { v: NonNullable<typeof viewing.value> }) {
  const ref = useRef<HTMLDialogElement>(null);
  // Opened once, as it mounts, before the browser paints. An effect that ran on every move between
  // images would come after the paint, and an Escape pressed right after a move closed the dialog
  // just before it, which then opened it again and took the focus off the image that opened it.
  useLayoutEffect(() => { ref.current?.showModal(); }, []);
  const f = v.files[v.i]!;
  const n = v.files.length;
  const go = (d: number) => { viewing.value = { ...v, i: (v.i + d + n) % n }; };
  const label = `${f.name} (${v.i + 1}/${n})`;
  return (
    <dialog ref={ref} class="viewer" aria-label={label}
      onClose={() => { viewing.value = null; v.from.focus(); }}
      onKeyDown={(e) => { if (e.key === "ArrowRight" || e.key === "ArrowLeft") { e.preventDefault(); go(e.key === "ArrowRight" ? 1 : -1); } }}>
      <img src={fileUrl(v.conv, f.id)} alt={f.name} />
      <div class="row">
        {n > 1 && <button type="button" class="ghost" aria-label={t("previous")} onClick={() => go(-1)}>‹</button>}
        <span class="grow small">{label}</span>
        {n > 1 && <button type="button" class="ghost" aria-label={t("next")} onClick={() => go(1)}>›</button>}
        <a class="ghost" href={fileUrl(v.conv, f.id)} download={f.name}>{t("download")}</a>
        <button type="button" class="ghost" onClick={() => ref.current?.close()}>{t("close")}</button>
      </div>
    </dialog>
  );
}
