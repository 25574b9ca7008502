import { useSignal, type Signal } from "@preact/signals";
import { refusal } from "../lib/refusal";

/** A form's outcome, read out: a confirmation (status) or a refusal in words (alert). */
export function Outcome({ ok, error }: { ok: string; error: string }) {
  if (error) return <p class="error small" role="alert">{error}</p>;
  return ok ? <p class="small" role="status">{ok}</p> : null;
}

/**
 * The state behind an Outcome: `run` clears it, does the action, and says `done` when it worked
 * or why not (the server's refusal, in words) when it did not. Resolves true when it worked.
 */
export function useOutcome(): { ok: Signal<string>; error: Signal<string>; run: (action: () => Promise<unknown>, done?: string) => Promise<boolean> } {
  const ok = useSignal("");
  const error = useSignal("");
  async function run(action: () => Promise<unknown>, done = ""): Promise<boolean> {
    ok.value = error.value = "";
    try {
      await action();
      ok.value = done;
      return true;
    } catch (err) {
      error.value = refusal(err);
      return false;
    }
  }
  return { ok, error, run };
}
