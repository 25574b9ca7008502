/** A form's outcome, read out: a confirmation (status) or a refusal in words (alert). */
export function Outcome({ ok, error }: { ok: string; error: string }) {
  if (error) return <p class="error small" role="alert">{error}</p>;
  return ok ? <p class="small" role="status">{ok}</p> : null;
}
