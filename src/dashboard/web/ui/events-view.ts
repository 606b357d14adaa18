// The events feed: everything /events streamed since the page opened (the newest 1,000), filtered as one types.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { eventMatches } from '../model/events';
import { live, useLive } from './live';

export function EventsView() {
  useLive();
  const [filter, setFilter] = useState('');
  const shown = live.events.list().filter((ev) => eventMatches(ev, filter)).slice(0, 500);
  return html`<section class="view events">
    <div class="toolbar"><input type="search" placeholder="Filter: type, action, name, image…" value=${filter} onInput=${(e: Event) => setFilter((e.target as HTMLInputElement).value)} data-testid="events-filter" />
      <span class="muted">${shown.length} shown</span></div>
    <table class="list"><thead><tr><th>Time</th><th>Type</th><th>Action</th><th>Actor</th><th>Attributes</th></tr></thead><tbody>
      ${shown.map((ev) => html`<tr data-testid="event-row" data-type=${ev.Type} data-action=${ev.Action}>
        <td class="mono">${new Date(ev.timeNano ? ev.timeNano / 1e6 : ev.time * 1000).toLocaleTimeString()}</td><td>${ev.Type}</td><td>${ev.Action}</td>
        <td class="mono">${ev.Actor?.Attributes?.name ?? (ev.Actor?.ID ?? '').slice(0, 12)}</td>
        <td class="attrs">${Object.entries(ev.Actor?.Attributes ?? {}).filter(([k]) => k !== 'name').map(([k, v]) => `${k}=${v}`).join(' ')}</td></tr>`)}
    </tbody></table></section>`;
}
