// metrics-addr (daemon.json, --metrics-addr) as dockerd takes it, "HOST:PORT", read into where /metrics listens.
import { formatListenAddress, parseListenAddress, type ListenAddress } from '../wire/listen-address';

/**
 * Where /metrics listens. It names every container and its image, unauthenticated: only a host written out in the
 * address takes it off loopback, and the daemon says so in its log.
 */
export type MetricsAddress = ListenAddress;

/** dockerd's default, an empty value, is no metrics endpoint (undefined). */
export function parseMetricsAddress(value: unknown): MetricsAddress | undefined {
  return parseListenAddress(value, 'metrics-addr', 9323);
}

export const formatMetricsAddress = formatListenAddress;
