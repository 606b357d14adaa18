// Declared shapes of the network bodies (moby's network.CreateRequest, ConnectOptions, DisconnectOptions).
import { array, bool, map, str, struct } from './decode';
import { endpointSettings } from './containers';

const ipamConfig = struct('IPAMConfig', { Subnet: str, IPRange: str, Gateway: str, AuxiliaryAddresses: map(str) }, 'network.IPAMConfig');

/** POST /networks/create: CreateOptions inlined beside Name and CheckDuplicate. */
export const networkCreate = struct('CreateRequest', {
  Name: str, CheckDuplicate: bool, Driver: str, Scope: str, EnableIPv4: bool, EnableIPv6: bool,
  IPAM: struct('IPAM', { Driver: str, Options: map(str), Config: array(ipamConfig) }, 'network.IPAM'),
  Internal: bool, Attachable: bool, Ingress: bool, ConfigOnly: bool, ConfigFrom: struct('ConfigReference', { Network: str }, 'network.ConfigReference'),
  Options: map(str), Labels: map(str),
}, 'network.CreateRequest');

/** POST /networks/{id}/connect. */
export const networkConnect = struct('ConnectOptions', { Container: str, EndpointConfig: endpointSettings }, 'network.ConnectOptions');

/** POST /networks/{id}/disconnect. */
export const networkDisconnect = struct('DisconnectOptions', { Container: str, Force: bool }, 'network.DisconnectOptions');
