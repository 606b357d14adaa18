// The cluster's certificate authority (swarmkit's ca/): a P-256 root named CN=swarm-ca, node certificates whose
// subject says who the node is (CN = node ID, OU = swarm-manager | swarm-worker, O = cluster ID), the TLSInfo the
// API shows, and the identity check a server makes of a peer's certificate.
import { X509Certificate, createPublicKey } from 'node:crypto';
import { InvalidParameterError } from '../../errdefs';
import type { TLSInfo } from '../../wire/swarm';
import { certificateSubjectDer } from './der';
import type { X509Signer } from './openssl';

export const CA_COMMON_NAME = 'swarm-ca';
export const MANAGER_OU = 'swarm-manager';
export const WORKER_OU = 'swarm-worker';
/** swarmkit's root lifetime: 20 years. */
const ROOT_DAYS = 20 * 365;

/** The root's material as the cluster object keeps it (the key in clear, as swarmkit's raft does unless autolocked). */
export interface RootMaterial {
  certPem: string;
  keyPem: string;
}

export interface NodeIdentity {
  nodeId: string;
  role: 'manager' | 'worker';
  clusterId: string;
}

export interface NodeCertificate {
  certPem: string;
  keyPem: string;
}

export function ouOfRole(role: 'manager' | 'worker'): string {
  return role === 'manager' ? MANAGER_OU : WORKER_OU;
}

export async function createRoot(signer: X509Signer): Promise<RootMaterial> {
  const keyPem = signer.newKey();
  return { keyPem, certPem: await signer.selfSignRoot(keyPem, CA_COMMON_NAME, ROOT_DAYS) };
}

/** TLSInfo of a trust root: the PEM itself, and the subject and public key as base64 DER (moby's shape). */
export function tlsInfoOf(trustRootPem: string): TLSInfo {
  const cert = new X509Certificate(trustRootPem);
  return {
    TrustRoot: trustRootPem,
    CertIssuerSubject: certificateSubjectDer(cert.raw).toString('base64'),
    CertIssuerPublicKey: (createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' })).export({ type: 'spki', format: 'der' }) as Buffer).toString('base64'),
  };
}

/**
 * A node makes its own key and a request naming only its node ID: the key never leaves the node, and the role and
 * cluster in its certificate are the CA's to decide when it signs (the control endpoint, from the join token).
 */
export async function requestNodeCertificate(signer: X509Signer, nodeId: string): Promise<{ keyPem: string; csrPem: string }> {
  const keyPem = signer.newKey();
  return { keyPem, csrPem: await signer.createRequest(keyPem, { commonName: nodeId }) };
}

/**
 * Signs a node's request (its signature checked, its CN the node ID it claims) with the subject the CA assigns
 * and IP SANs for the addresses the node is reached at.
 */
export async function signNodeCertificate(signer: X509Signer, root: RootMaterial, csrPem: string, identity: NodeIdentity, ipAddresses: string[], days: number): Promise<string> {
  const said = await signer.requestSubject(csrPem);
  if (said !== `CN=${identity.nodeId}`) throw new InvalidParameterError(`certificate request for ${JSON.stringify(said)} does not name node ${identity.nodeId}`);
  const subject = { commonName: identity.nodeId, organizationalUnit: ouOfRole(identity.role), organization: identity.clusterId };
  return signer.signRequest(csrPem, root.certPem, root.keyPem, { subject, days, ipAddresses, dnsNames: ['localhost'] });
}

/** Issues a node's key and certificate in one step (the node that creates the CA, and managers issuing for themselves). */
export async function issueNodeCertificate(signer: X509Signer, root: RootMaterial, identity: NodeIdentity, ipAddresses: string[], days: number): Promise<NodeCertificate> {
  const { keyPem, csrPem } = await requestNodeCertificate(signer, identity.nodeId);
  return { keyPem, certPem: await signNodeCertificate(signer, root, csrPem, identity, ipAddresses, days) };
}

/** Who a certificate (signed by `trustRootPem`) says its holder is; undefined when not ours or not a node certificate. */
export function identityOfCertificate(certPem: string | Buffer, trustRootPem: string): NodeIdentity | undefined {
  const cert = new X509Certificate(certPem);
  const root = new X509Certificate(trustRootPem);
  if (!cert.checkIssued(root) || !cert.verify(root.publicKey)) return undefined;
  const fields = new Map(cert.subject.split('\n').map((l) => l.split(/=(.*)/s) as [string, string]));
  const ou = fields.get('OU');
  const role = ou === MANAGER_OU ? 'manager' : ou === WORKER_OU ? 'worker' : undefined;
  const nodeId = fields.get('CN');
  const clusterId = fields.get('O');
  if (!role || !nodeId || !clusterId) return undefined;
  return { nodeId, role, clusterId };
}

/** Node certificate lifetime in days from CAConfig.NodeCertExpiry (ns; default 90 days). */
export function nodeCertDays(nodeCertExpiryNs: number | undefined): number {
  const ns = nodeCertExpiryNs ?? 7_776_000_000_000_000;
  return Math.max(1, Math.ceil(ns / 86_400_000_000_000));
}

/** The IP addresses a node certificate names: the node's advertise address, and loopback for its own etcd clients. */
export function nodeCertAddresses(advertiseAddr: string): string[] {
  return [...new Set([advertiseAddr, '127.0.0.1'])];
}
