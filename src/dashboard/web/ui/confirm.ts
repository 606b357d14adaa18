// The confirmation dialog destructive actions go through, and the page's one line of error/notice text.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

interface Question {
  title: string;
  details: string[];
  ok: string;
  answer: (yes: boolean) => void;
}

let pending: Question | undefined;
let notice = '';
const listeners = new Set<() => void>();
const changed = () => listeners.forEach((fn) => fn());

/** Asks the user; resolves true when they confirm. `details` says what will happen (what is freed, what stops). */
export function confirmAction(title: string, details: string[] = [], ok = 'Confirm'): Promise<boolean> {
  pending?.answer(false);
  return new Promise((resolve) => {
    pending = { title, details, ok, answer: (yes) => { pending = undefined; changed(); resolve(yes); } };
    changed();
  });
}

/** Shows a message in the page's notice bar (an action's failure, say) until the next one or a dismissal. */
export function showNotice(message: string): void {
  notice = message;
  changed();
}

function useDialogState(): void {
  const [, setTick] = useState(0);
  useEffect(() => { const fn = () => setTick((t) => t + 1); listeners.add(fn); return () => { listeners.delete(fn); }; }, []);
}

export function DialogHost() {
  useDialogState();
  const q = pending;
  return html`
    ${notice && html`<div class="notice" role="alert" data-testid="notice">${notice} <button onClick=${() => showNotice('')}>×</button></div>`}
    ${q && html`<div class="modal-backdrop">
      <div class="modal" role="dialog" aria-modal="true" data-testid="confirm">
        <h3>${q.title}</h3>
        ${q.details.length > 0 && html`<ul>${q.details.map((d) => html`<li>${d}</li>`)}</ul>`}
        <div class="modal-buttons">
          <button data-testid="confirm-cancel" onClick=${() => q.answer(false)}>Cancel</button>
          <button class="danger" data-testid="confirm-ok" onClick=${() => q.answer(true)}>${q.ok}</button>
        </div>
      </div>
    </div>`}`;
}
