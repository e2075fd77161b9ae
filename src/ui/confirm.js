// Every action that changes the store (replay, purge) waits for a yes here.
import { html } from './html.js';

/** `ask` is { text, action: label, run } or null. */
export function Confirm({ ask, onClose }) {
  if (!ask) return null;
  return html`<div class="modal-backdrop">
    <div class="modal" role="dialog" aria-modal="true" aria-label="Confirm">
      <p>${ask.text}</p>
      <div class="actions">
        <button class="danger" data-testid="confirm-yes" onClick=${async () => {
          onClose();
          await ask.run();
        }}>${ask.action}</button>
        <button data-testid="confirm-no" onClick=${onClose}>Cancel</button>
      </div>
    </div>
  </div>`;
}
