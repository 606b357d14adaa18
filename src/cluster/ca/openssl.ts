// The X.509 signing adapter over Debian's openssl CLI: self-signs the cluster root, makes a node's CSR and signs
// CSRs with the root. Keys are generated in-process (node:crypto, P-256, PKCS#8 PEM, which etcd's Go TLS reads);
// only the certificate encoding runs openssl, with the key material in a private temporary directory.
// Why openssl and not @peculiar/x509: that library needs a process-wide reflect-metadata polyfill (tsyringe)
// that is not installed, and openssl is the tool made for the job and already on every Berth host.
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { SystemError } from '../../errdefs';

export interface CertificateRequestFields {
  commonName: string;
  organizationalUnit?: string;
  organization?: string;
}

export interface SignOptions {
  /** The certificate's subject: the CA's decision, whatever the request said. */
  subject: CertificateRequestFields;
  /** Days the certificate is valid. */
  days: number;
  ipAddresses: string[];
  dnsNames: string[];
}

/** What the CA needs from an X.509 toolkit; faked nowhere (openssl is fast enough for unit tests). */
export interface X509Signer {
  newKey(): string;
  selfSignRoot(keyPem: string, commonName: string, days: number): Promise<string>;
  createRequest(keyPem: string, fields: CertificateRequestFields): Promise<string>;
  signRequest(csrPem: string, caCertPem: string, caKeyPem: string, options: SignOptions): Promise<string>;
  /** The request's subject as openssl prints it ("O=c, OU=r, CN=n"), after checking the request's signature. */
  requestSubject(csrPem: string): Promise<string>;
}

const OPENSSL = '/usr/bin/openssl';

function run(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(OPENSSL, args, { cwd, timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new SystemError(`openssl ${args[0]}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

/**
 * openssl req's own configuration: the host's openssl.cnf asks for UTF8String names; swarmkit's Go encodes ASCII
 * names as PrintableString, and TLSInfo.CertIssuerSubject shows those bytes (MBMxETAPBgNVBAMTCHN3YXJtLWNh).
 */
const REQ_CONFIG = '[req]\ndistinguished_name = dn\nstring_mask = default\nprompt = no\n[dn]\n';

async function inPrivateDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-ca-'));
  await fsp.writeFile(path.join(dir, 'req.cnf'), REQ_CONFIG);
  try {
    return await work(dir);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** An RFC 4514-ish subject for openssl's -subj (values are our own IDs: no slashes to escape). */
function subject(f: CertificateRequestFields): string {
  return `${f.organization ? `/O=${f.organization}` : ''}${f.organizationalUnit ? `/OU=${f.organizationalUnit}` : ''}/CN=${f.commonName}`;
}

export class OpensslSigner implements X509Signer {
  newKey(): string {
    return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  selfSignRoot(keyPem: string, commonName: string, days: number): Promise<string> {
    return inPrivateDir(async (dir) => {
      await fsp.writeFile(path.join(dir, 'ca.key'), keyPem, { mode: 0o600 });
      return run(['req', '-config', 'req.cnf', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', String(days), '-subj', `/CN=${commonName}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    });
  }

  createRequest(keyPem: string, fields: CertificateRequestFields): Promise<string> {
    return inPrivateDir(async (dir) => {
      await fsp.writeFile(path.join(dir, 'node.key'), keyPem, { mode: 0o600 });
      return run(['req', '-config', 'req.cnf', '-new', '-key', 'node.key', '-subj', subject(fields)], dir);
    });
  }

  requestSubject(csrPem: string): Promise<string> {
    return inPrivateDir(async (dir) => {
      await fsp.writeFile(path.join(dir, 'node.csr'), csrPem);
      const out = await run(['req', '-in', 'node.csr', '-noout', '-verify', '-subject', '-nameopt', 'sep_comma_plus_space'], dir);
      return out.trim().replace(/^subject=/, '');
    });
  }

  signRequest(csrPem: string, caCertPem: string, caKeyPem: string, o: SignOptions): Promise<string> {
    return inPrivateDir(async (dir) => {
      await fsp.writeFile(path.join(dir, 'ca.key'), caKeyPem, { mode: 0o600 });
      await fsp.writeFile(path.join(dir, 'ca.crt'), caCertPem);
      await fsp.writeFile(path.join(dir, 'node.csr'), csrPem);
      const sans = [...o.ipAddresses.map((ip) => `IP:${ip}`), ...o.dnsNames.map((d) => `DNS:${d}`)];
      // Server and client auth both: a node's certificate serves etcd peers and the control endpoint and dials them.
      await fsp.writeFile(path.join(dir, 'node.ext'), [
        'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth,clientAuth',
        ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : []), '',
      ].join('\n'));
      return run(['x509', '-req', '-in', 'node.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${randomSerial()}`,
        '-days', String(o.days), '-sha256', '-extfile', 'node.ext', '-subj', subject(o.subject)], dir);
    });
  }
}

function randomSerial(): string {
  // 16 random bytes with the top bit clear: a positive serial, as RFC 5280 asks.
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}
