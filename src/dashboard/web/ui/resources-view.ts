// Volumes and networks, each with the containers that use them (from the page's one container listing).
import { html } from 'htm/preact';
import { networkUsers, volumeUsers } from '../model/usage';
import { getJson } from './api';
import { live, useListing, useLive } from './live';

const Users = ({ names }: { names: string[] | undefined }) =>
  names && names.length ? html`${names.map((n, i) => html`${i ? ', ' : ''}<a href=${`#/containers/${encodeURIComponent(n)}`}>${n}</a>`)}` : html`<span class="muted">none</span>`;

interface Volume { Name: string; Driver: string; Mountpoint: string; CreatedAt?: string; Labels?: Record<string, string> | null }
const fetchVolumes = () => getJson<{ Volumes: Volume[] | null }>('/volumes');

export function VolumesView() {
  useLive();
  const { data, error } = useListing(fetchVolumes, 'volume');
  const users = volumeUsers(live.containers);
  return html`<section class="view">
    ${error && html`<p class="error">${error}</p>`}
    <table class="list"><thead><tr><th>Name</th><th>Driver</th><th>Mountpoint</th><th>Used by</th></tr></thead><tbody>
      ${(data?.Volumes ?? []).map((v) => html`<tr data-testid="volume-row" data-name=${v.Name}><td class="mono">${v.Name}</td><td>${v.Driver}</td><td class="mono muted">${v.Mountpoint}</td><td><${Users} names=${users.get(v.Name)} /></td></tr>`)}
    </tbody></table></section>`;
}

interface Network { Id: string; Name: string; Driver: string; Scope: string; Internal?: boolean; IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null } }
const fetchNetworks = () => getJson<Network[]>('/networks');

export function NetworksView() {
  useLive();
  const { data, error } = useListing(fetchNetworks, 'network');
  const users = networkUsers(live.containers);
  return html`<section class="view">
    ${error && html`<p class="error">${error}</p>`}
    <table class="list"><thead><tr><th>Name</th><th>Driver</th><th>Scope</th><th>Subnets</th><th>Used by</th></tr></thead><tbody>
      ${(data ?? []).map((n) => html`<tr data-testid="network-row" data-name=${n.Name}><td>${n.Name}</td><td>${n.Driver}</td><td>${n.Scope}</td>
        <td class="mono">${(n.IPAM?.Config ?? []).map((c) => c.Subnet).filter(Boolean).join(', ')}</td><td><${Users} names=${users.get(n.Id) ?? users.get(n.Name)} /></td></tr>`)}
    </tbody></table></section>`;
}
