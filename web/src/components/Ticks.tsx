import type { Tick } from "../models/ticks";
import { t } from "../lib/i18n";

const LABEL = { sending: "tickSending", sent: "tickSent", delivered: "tickDelivered", read: "tickRead", failed: "tickFailed" } as const;

/** One check for sent, two for delivered, two coloured for read; a clock while sending. */
export function Ticks({ tick }: { tick: Tick }) {
  const label = t(LABEL[tick]);
  return (
    <span class={`ticks ${tick}`} data-tick={tick} role="img" aria-label={label} title={label}>
      {tick === "sending" ? (
        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-width="1.5" /><path d="M8 4.5V8l2.5 1.5" fill="none" stroke="currentColor" stroke-width="1.5" /></svg>
      ) : tick === "failed" ? (
        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><circle cx="8" cy="8" r="7" fill="currentColor" /><path d="M8 4v5M8 11v1" stroke="#fff" stroke-width="2" /></svg>
      ) : (
        <svg viewBox="0 0 20 16" width="18" height="14" aria-hidden="true">
          <path d="M1.5 8.5l3.5 3.5 7-8" fill="none" stroke="currentColor" stroke-width="1.7" />
          {tick !== "sent" && <path d="M8 12l7-8" fill="none" stroke="currentColor" stroke-width="1.7" />}
        </svg>
      )}
    </span>
  );
}
