// The signature policy in containers-policy.json's format: parsed strictly, its docker scopes looked up longest match
// first, and its requirements (insecureAcceptAnything, reject, sigstoreSigned with a signed identity) evaluated for one image.
import type { KeyObject } from 'node:crypto';
import { InvalidParameterError } from '../errdefs';
import { parseNormalizedNamed, type ImageReference } from '../wire/reference';
import { parsePublicKey } from './sigstore-key';
import { SignatureRejected, verifySignature } from './simple-signing';

/** How a signature's docker-reference must relate to the image pulled (containers-policy.json's signedIdentity). */
export type SignedIdentity =
  | { type: 'matchExact' }
  | { type: 'matchRepoDigestOrExact' }
  | { type: 'matchRepository' }
  | { type: 'exactReference'; dockerReference: ImageReference }
  | { type: 'exactRepository'; dockerRepository: ImageReference }
  | { type: 'remapIdentity'; prefix: string; signedPrefix: string };

export type Requirement =
  | { type: 'insecureAcceptAnything' }
  | { type: 'reject' }
  | { type: 'sigstoreSigned'; keys: KeyObject[]; signedIdentity: SignedIdentity }
  /** A requirement Berth does not evaluate (GPG's signedBy): it refuses, naming it, rather than accepting silently. */
  | { type: 'unsupported'; name: string };

export interface Policy {
  /** Where it came from, for errors. */
  source: string;
  default: Requirement[];
  /** transports.docker: scope → requirements ("" is the transport's own default). */
  docker: Map<string, Requirement[]>;
}

/** One signature as stored beside an image: the payload's bytes and the base64 signature annotation. */
export interface StoredSignature { payload: Buffer; signature: string }

/** Reads the public key files a policy names (keyPath, keyPaths); the real one reads the disk. */
export type KeyFileReader = (path: string) => string;

function object(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InvalidParameterError(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function onlyFields(o: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new InvalidParameterError(`${what}: unknown field ${JSON.stringify(k)}`);
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || !v) throw new InvalidParameterError(`${what} must be a non-empty string`);
  return v;
}

function parseIdentity(v: unknown, what: string): SignedIdentity {
  if (v === undefined) return { type: 'matchRepoDigestOrExact' };
  const o = object(v, what);
  const type = o.type;
  switch (type) {
    case 'matchExact': case 'matchRepoDigestOrExact': case 'matchRepository':
      onlyFields(o, ['type'], what);
      return { type };
    case 'exactReference': {
      onlyFields(o, ['type', 'dockerReference'], what);
      const ref = parseNormalizedNamed(str(o.dockerReference, `${what}.dockerReference`));
      if (ref.isNameOnly) throw new InvalidParameterError(`${what}.dockerReference ${JSON.stringify(o.dockerReference)} must have a tag or digest`);
      return { type, dockerReference: ref };
    }
    case 'exactRepository': {
      onlyFields(o, ['type', 'dockerRepository'], what);
      const ref = parseNormalizedNamed(str(o.dockerRepository, `${what}.dockerRepository`));
      if (!ref.isNameOnly) throw new InvalidParameterError(`${what}.dockerRepository ${JSON.stringify(o.dockerRepository)} must be a repository without tag or digest`);
      return { type, dockerRepository: ref };
    }
    case 'remapIdentity':
      onlyFields(o, ['type', 'prefix', 'signedPrefix'], what);
      return { type, prefix: str(o.prefix, `${what}.prefix`), signedPrefix: str(o.signedPrefix, `${what}.signedPrefix`) };
    default:
      throw new InvalidParameterError(`${what}: unknown signedIdentity type ${JSON.stringify(type)}`);
  }
}

function parseKeys(o: Record<string, unknown>, what: string, readKey: KeyFileReader): KeyObject[] {
  for (const k of ['fulcio', 'pki', 'rekorPublicKeyPath', 'rekorPublicKeyPaths', 'rekorPublicKeyData', 'rekorPublicKeyDatas']) {
    if (k in o) throw new InvalidParameterError(`${what}: ${k} (keyless signing) is not supported by Berth; use keyPath, keyPaths or keyData`);
  }
  const given = ['keyPath', 'keyPaths', 'keyData', 'keyDatas'].filter((k) => k in o);
  if (given.length !== 1) throw new InvalidParameterError(`${what}: exactly one of keyPath, keyPaths, keyData and keyDatas must be set`);
  const fromFile = (p: unknown, w: string): KeyObject => {
    const file = str(p, w);
    // berthd's working directory is no place to look for keys: a relative path would mean whatever it happens to be.
    if (!file.startsWith('/')) throw new InvalidParameterError(`${w}: ${JSON.stringify(file)} must be an absolute path`);
    let text: string;
    try {
      text = readKey(file);
    } catch (err) {
      throw new InvalidParameterError(`${w}: cannot read ${file}: ${(err as Error).message}`);
    }
    return parsePublicKey(text, `${w} (${file})`);
  };
  const fromData = (d: unknown, w: string): KeyObject => parsePublicKey(Buffer.from(str(d, w), 'base64').toString('utf8'), w);
  const list = (v: unknown, w: string): unknown[] => {
    if (!Array.isArray(v) || !v.length) throw new InvalidParameterError(`${w} must be a non-empty array`);
    return v;
  };
  if ('keyPath' in o) return [fromFile(o.keyPath, `${what}.keyPath`)];
  if ('keyPaths' in o) return list(o.keyPaths, `${what}.keyPaths`).map((p, i) => fromFile(p, `${what}.keyPaths[${i}]`));
  if ('keyData' in o) return [fromData(o.keyData, `${what}.keyData`)];
  return list(o.keyDatas, `${what}.keyDatas`).map((d, i) => fromData(d, `${what}.keyDatas[${i}]`));
}

function parseRequirement(v: unknown, what: string, readKey: KeyFileReader): Requirement {
  const o = object(v, what);
  switch (o.type) {
    case 'insecureAcceptAnything': case 'reject':
      onlyFields(o, ['type'], what);
      return { type: o.type };
    case 'sigstoreSigned':
      onlyFields(o, ['type', 'keyPath', 'keyPaths', 'keyData', 'keyDatas', 'signedIdentity', 'fulcio', 'pki', 'rekorPublicKeyPath', 'rekorPublicKeyPaths', 'rekorPublicKeyData', 'rekorPublicKeyDatas'], what);
      return { type: 'sigstoreSigned', keys: parseKeys(o, what, readKey), signedIdentity: parseIdentity(o.signedIdentity, `${what}.signedIdentity`) };
    case 'signedBy': case 'signedBaseLayer':
      return { type: 'unsupported', name: o.type };
    default:
      throw new InvalidParameterError(`${what}: unknown requirement type ${JSON.stringify(o.type)}`);
  }
}

function parseRequirements(v: unknown, what: string, readKey: KeyFileReader): Requirement[] {
  if (!Array.isArray(v)) throw new InvalidParameterError(`${what} must be an array of requirements`);
  // containers/image refuses an empty list: it would mean neither "accept" nor "reject".
  if (!v.length) throw new InvalidParameterError(`${what} must not be empty (use [{"type":"insecureAcceptAnything"}] to accept anything)`);
  return v.map((r, i) => parseRequirement(r, `${what}[${i}]`, readKey));
}

/** A docker scope: "" (the transport's default), a host ("localhost:5000"), "*.example.com", or a fully-qualified repository with an optional tag or digest. */
function checkDockerScope(scope: string, what: string): void {
  if (scope === '') return;
  if (scope.startsWith('*.')) {
    if (!/^\*(\.[a-z0-9-]+)+$/i.test(scope)) throw new InvalidParameterError(`${what}: invalid wildcard scope ${JSON.stringify(scope)}`);
    return;
  }
  if (!scope.includes('/')) {
    if (!/^[a-z0-9.-]+(:\d+)?$/i.test(scope)) throw new InvalidParameterError(`${what}: invalid host scope ${JSON.stringify(scope)}`);
    return;
  }
  let ref: ImageReference;
  try {
    ref = parseNormalizedNamed(scope);
  } catch (err) {
    throw new InvalidParameterError(`${what}: invalid scope ${JSON.stringify(scope)}: ${(err as Error).message}`);
  }
  // A scope is matched as text: it must already be in the full form ("docker.io/library/busybox", not "busybox").
  if (ref.toString() !== scope) throw new InvalidParameterError(`${what}: scope ${JSON.stringify(scope)} must be written fully qualified, as ${JSON.stringify(ref.toString())}`);
}

/** Parses a policy file's text; any fault is an InvalidParameterError naming `source` and the place in the file. */
export function parsePolicy(text: string, source: string, readKey: KeyFileReader): Policy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidParameterError(`signature policy ${source}: not JSON: ${(err as Error).message}`);
  }
  try {
    const top = object(json, 'the policy');
    onlyFields(top, ['default', 'transports'], 'the policy');
    if (!('default' in top)) throw new InvalidParameterError('the policy has no "default" requirements');
    const policy: Policy = { source, default: parseRequirements(top.default, 'default', readKey), docker: new Map() };
    if (top.transports !== undefined) {
      const transports = object(top.transports, 'transports');
      for (const [name, scopes] of Object.entries(transports)) {
        const s = object(scopes, `transports.${name}`);
        // Other transports (docker-daemon, oci, dir...) are podman's and skopeo's business; Berth pulls from registries only.
        if (name !== 'docker') continue;
        for (const [scope, reqs] of Object.entries(s)) {
          checkDockerScope(scope, `transports.docker`);
          policy.docker.set(scope, parseRequirements(reqs, `transports.docker[${JSON.stringify(scope)}]`, readKey));
        }
      }
    }
    return policy;
  } catch (err) {
    throw new InvalidParameterError(`signature policy ${source}: ${(err as Error).message}`);
  }
}

/**
 * The scopes that can hold `ref`'s requirements, most specific first, as containers/image's docker transport lists
 * them: the full reference, the repository and each parent namespace, the host, then the host's wildcard domains.
 */
export function dockerScopes(ref: ImageReference): string[] {
  const out = [ref.toString()];
  const parts = ref.path.split('/');
  for (let n = parts.length; n > 0; n--) out.push(`${ref.domain}/${parts.slice(0, n).join('/')}`);
  out.push(ref.domain);
  const labels = ref.domain.replace(/:\d+$/, '').split('.');
  for (let i = 1; i < labels.length; i++) out.push(`*.${labels.slice(i).join('.')}`);
  return out;
}

/** The requirements that apply to `ref` and the scope they came from ("default" when none matched). */
export function requirementsFor(policy: Policy, ref: ImageReference): { scope: string; requirements: Requirement[] } {
  for (const scope of [...dockerScopes(ref), '']) {
    const reqs = policy.docker.get(scope);
    if (reqs) return { scope: scope === '' ? 'transports.docker[""]' : scope, requirements: reqs };
  }
  return { scope: 'default', requirements: policy.default };
}

function parseSignedReference(s: string): ImageReference {
  try {
    return parseNormalizedNamed(s);
  } catch {
    throw new SignatureRejected(`the signed docker reference ${JSON.stringify(s)} is not a valid reference`);
  }
}

/** Whether the signature's reference vouches for `image` under `rule`; throws SignatureRejected saying why not. */
export function checkIdentity(rule: SignedIdentity, image: ImageReference, signedText: string): void {
  const signed = parseSignedReference(signedText);
  const mismatch = (want: string) => new SignatureRejected(`identity mismatch: the signature is for ${JSON.stringify(signedText)}, the policy (signedIdentity ${rule.type}) wants ${want}`);
  const exact = (img: ImageReference) => {
    if (signed.isNameOnly || img.toString() !== signed.toString()) throw mismatch(JSON.stringify(img.toString()));
  };
  switch (rule.type) {
    case 'matchExact':
      return exact(image);
    case 'matchRepoDigestOrExact':
      if (image.digest !== undefined) {
        if (image.name !== signed.name) throw mismatch(`repository ${JSON.stringify(image.name)}`);
        return;
      }
      return exact(image);
    case 'matchRepository':
      if (image.name !== signed.name) throw mismatch(`repository ${JSON.stringify(image.name)}`);
      return;
    case 'exactReference':
      if (signed.isNameOnly || signed.toString() !== rule.dockerReference.toString()) throw mismatch(JSON.stringify(rule.dockerReference.toString()));
      return;
    case 'exactRepository':
      if (signed.name !== rule.dockerRepository.name) throw mismatch(`repository ${JSON.stringify(rule.dockerRepository.name)}`);
      return;
    case 'remapIdentity': {
      // The image's name with `prefix` (a whole path component) swapped for `signedPrefix`, then matchRepoDigestOrExact.
      const full = image.toString();
      const atBoundary = full.startsWith(rule.prefix) && /^([/:@]|$)/.test(full.slice(rule.prefix.length));
      const remapped = atBoundary ? parseSignedReference(rule.signedPrefix + full.slice(rule.prefix.length)) : image;
      return checkIdentity({ type: 'matchRepoDigestOrExact' }, remapped, signedText);
    }
  }
}

/** A refusal: which rule said no and why. */
export interface Refusal { scope: string; reason: string }

/**
 * Evaluates the policy for `ref` whose manifest has `manifestDigest`; every requirement of the matching scope must be
 * satisfied. `signatures` is asked only when a requirement needs them. Resolves to null when the image is accepted.
 */
export async function evaluate(policy: Policy, ref: ImageReference, manifestDigest: string, signatures: () => Promise<StoredSignature[]>): Promise<Refusal | null> {
  const { scope, requirements } = requirementsFor(policy, ref);
  let fetched: StoredSignature[] | undefined;
  for (const req of requirements) {
    if (req.type === 'insecureAcceptAnything') continue;
    if (req.type === 'reject') return { scope, reason: 'the policy rejects every image in this scope ("reject")' };
    if (req.type === 'unsupported') return { scope, reason: `the policy requires ${req.name}, which Berth does not verify (only sigstoreSigned)` };
    fetched ??= await signatures();
    if (!fetched.length) return { scope, reason: 'a signature was required, but no signature exists' };
    const reasons: string[] = [];
    let accepted = false;
    for (const sig of fetched) {
      try {
        const claims = verifySignature(sig.payload, sig.signature, req.keys);
        if (claims.manifestDigest !== manifestDigest) throw new SignatureRejected(`the signature does not match the digest: it is for ${claims.manifestDigest}, the manifest is ${manifestDigest}`);
        checkIdentity(req.signedIdentity, ref, claims.dockerReference);
        accepted = true;
        break;
      } catch (err) {
        if (!(err instanceof SignatureRejected)) throw err;
        reasons.push(err.message);
      }
    }
    if (!accepted) return { scope, reason: [...new Set(reasons)].join('; ') };
  }
  return null;
}
