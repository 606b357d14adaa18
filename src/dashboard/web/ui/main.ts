// The dashboard page: hash routes to the views, the navigation, and the live state started once for the page.
import { render } from 'preact';
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { live, useLive } from './live';
import { DialogHost } from './confirm';
import { ContainersView } from './containers-view';
import { ContainerDetail } from './container-detail';
import { ImagesView } from './images-view';
import { NetworksView, VolumesView } from './resources-view';
import { ClusterView } from './cluster-view';
import { EventsView } from './events-view';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function route(hash: string) {
  const parts = hash.replace(/^#\/?/, '').split('/').map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
  switch (parts[0]) {
    case 'images': return html`<${ImagesView} />`;
    case 'volumes': return html`<${VolumesView} />`;
    case 'networks': return html`<${NetworksView} />`;
    case 'cluster': return html`<${ClusterView} />`;
    case 'events': return html`<${EventsView} />`;
    default: return parts[1] ? html`<${ContainerDetail} key=${parts[1]} id=${parts[1]} />` : html`<${ContainersView} />`;
  }
}

function App() {
  useLive();
  const hash = useHash();
  const current = hash.replace(/^#\/?/, '').split('/')[0] || 'containers';
  const tabs = ['containers', 'images', 'volumes', 'networks', ...(live.swarmActive ? ['cluster'] : []), 'events'];
  return html`<header>
      <span class="brand">Berth</span>
      <nav>${tabs.map((t) => html`<a href=${`#/${t}`} class=${t === current ? 'active' : ''} data-testid=${`nav-${t}`}>${t}</a>`)}</nav>
    </header>
    <main>${route(hash)}</main>
    <${DialogHost} />`;
}

live.start(new AbortController().signal);
render(html`<${App} />`, document.getElementById('app')!);
