import { useEffect } from "preact/hooks";
import type { SessionInfo } from "../lib/api-account";
import { full } from "../lib/format";
import { t } from "../lib/i18n";
import { refusal } from "../lib/refusal";
import { endOtherSessions, endSession, loadSessions, sessionList } from "../models/account";
import { Outcome, useOutcome } from "./Outcome";

/** A short name for a device from its User-Agent: the browser and the system, when recognisable. */
export function deviceOf(agent: string | undefined): string {
  if (!agent) return t("unknownDevice");
  const browser = /Edg\//.test(agent) ? "Edge" : /Firefox\//.test(agent) ? "Firefox" : /Chrom(e|ium)\//.test(agent) ? "Chrome" : /Safari\//.test(agent) ? "Safari" : null;
  const system = /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iOS" : /Mac OS X/.test(agent) ? "macOS" : /Windows/.test(agent) ? "Windows" : /Linux/.test(agent) ? "Linux" : null;
  return browser && system ? `${browser}, ${system}` : (browser ?? system ?? agent.slice(0, 60));
}

/** Where I am signed in, most recently used first, each with its own "sign out". */
export function SessionList() {
  const { ok, error, run } = useOutcome();
  useEffect(() => { loadSessions().catch((err: unknown) => { error.value = refusal(err); }); }, []);
  const list = sessionList.value;

  return (
    <section aria-labelledby="set-sessions">
      <h3 id="set-sessions">{t("sessionsSection")}</h3>
      <ul class="sessions" aria-busy={list === null}>
        {list?.map((s: SessionInfo) => {
          const device = deviceOf(s.agent);
          const used = full(s.lastUsed);
          return (
            <li key={s.id} data-session={s.id} data-current={s.current ? "yes" : "no"}>
              <span class="grow">
                <span class="strong" title={s.agent}>{device}</span>
                {s.current && <span class="muted"> ({t("thisDevice")})</span>}
                <span class="muted small block">{t("sessionTimes", { created: full(s.created), used })}</span>
              </span>
              {!s.current && (
                <button type="button" class="secondary small" aria-label={t("endSessionOn", { device, used })}
                  onClick={() => void run(() => endSession(s.id), t("sessionEnded"))}>
                  {t("endSession")}
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {list && list.length > 1 && (
        <button type="button" class="secondary" onClick={() => void run(endOtherSessions, t("othersSignedOut"))}>{t("endOtherSessions")}</button>
      )}
      <Outcome ok={ok.value} error={error.value} />
    </section>
  );
}
