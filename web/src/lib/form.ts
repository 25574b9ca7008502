/** Forms read on submit, without a state per field. */

/** Reads a submitted form's fields; null when the event did not come from a form. */
export function formOf(e: SubmitEvent): { form: HTMLFormElement; get: (name: string) => string } | null {
  e.preventDefault();
  const form = e.currentTarget;
  if (!(form instanceof HTMLFormElement)) return null;
  const data = new FormData(form);
  return { form, get: (name) => String(data.get(name) ?? "") };
}
