// The container action buttons (on a table row and in the detail view): confirmation first for destructive ones,
// then the API call; a failure shows in the notice bar.
import { html } from 'htm/preact';
import type { ContainerSummary } from '../../../wire/docker';
import { containerName } from '../model/grouping';
import { CONSEQUENCE, actionRequest, actionsFor, type Action } from '../model/container-actions';
import { call } from './api';
import { confirmAction, showNotice } from './confirm';
import { live } from './live';

export async function runAction(action: Action, c: Pick<ContainerSummary, 'Id' | 'Names'>, after?: () => void): Promise<void> {
  const why = CONSEQUENCE[action];
  if (why && !(await confirmAction(`${action[0]!.toUpperCase()}${action.slice(1)} ${containerName(c)}?`, [why], action))) return;
  try {
    await call(...actionRequest(action, c.Id));
    after?.();
  } catch (err) {
    showNotice(`${action} ${containerName(c)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  live.refreshContainers();
}

export function ActionButtons({ container, after }: { container: ContainerSummary; after?: () => void }) {
  return html`<span class="actions">${actionsFor(container.State).map((a) => html`
    <button class=${CONSEQUENCE[a] ? 'act danger' : 'act'} data-testid=${`action-${a}`} title=${a}
      onClick=${(e: Event) => { e.stopPropagation(); void runAction(a, container, after); }}>${a}</button>`)}</span>`;
}
