// The engine's view of image trust: the policy file read afresh for each pull and checked before anything is stored,
// and a pushed manifest signed with a sigstore key and its signature stored beside it in the registry.
import * as fs from 'node:fs';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ForbiddenError } from '../errdefs';
import type { RepositoryDocuments } from '../registry/repository';
import type { ImageReference } from '../wire/reference';
import type { Descriptor } from '../wire/oci';
import { evaluate, parsePolicy, type KeyFileReader, type Policy } from './policy';
import { readSignatures, writeSignature } from './signature-store';
import { SignatureRejected, buildPayload, signPayload, verifySignature } from './simple-signing';

/** The creator named in Berth's payloads (containers/image writes "containers/image <version>"). */
const CREATOR = 'berth';

export interface ImageTrustOptions {
  /** The policy file; absent means every image is accepted (Berth's behaviour before policies). */
  policyPath: string;
  /** Reads the policy and the key files it names; the disk by default. */
  readFile?: KeyFileReader;
}

export class ImageTrust {
  private readonly readFile: KeyFileReader;

  constructor(private readonly opts: ImageTrustOptions) {
    this.readFile = opts.readFile ?? ((p) => fs.readFileSync(p, 'utf8'));
  }

  get policyPath(): string {
    return this.opts.policyPath;
  }

  /**
   * The policy as the file says now (each pull reads it, so an edit applies to the next pull without a restart);
   * null when there is no file. A malformed file throws an InvalidParameterError naming the file and the fault.
   */
  load(): Policy | null {
    let text: string;
    try {
      text = this.readFile(this.opts.policyPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new ForbiddenError(`signature policy ${this.opts.policyPath}: cannot read it: ${(err as Error).message}`);
    }
    return parsePolicy(text, this.opts.policyPath, this.readFile);
  }

  /**
   * Refuses `ref` (whose top-level manifest has `manifestDigest`) unless the policy accepts it, with a
   * ForbiddenError naming the image, the scope of the rule and the reason. Signatures are fetched only when needed.
   */
  async admit(ref: ImageReference, manifestDigest: string, repo: RepositoryDocuments): Promise<void> {
    const policy = this.load();
    if (!policy) return;
    const refusal = await evaluate(policy, ref, manifestDigest, () => readSignatures(repo, manifestDigest));
    if (refusal) {
      throw new ForbiddenError(`image ${ref.familiar()} (${manifestDigest}) refused by signature policy ${policy.source}, scope ${JSON.stringify(refusal.scope)}: ${refusal.reason}`);
    }
  }

  /**
   * Signs the manifest `subject` as `ref` (its full name and tag) and stores the signature in the repository, unless
   * this key's signature of the same digest and name is there already: pushing again does not pile up signatures.
   */
  async sign(repo: RepositoryDocuments, ref: ImageReference, subject: Descriptor, key: KeyObject): Promise<{ stored: boolean; referrer: boolean }> {
    const publicKey = createPublicKey(key);
    for (const existing of await readSignatures(repo, subject.digest)) {
      try {
        const claims = verifySignature(existing.payload, existing.signature, [publicKey]);
        if (claims.manifestDigest === subject.digest && claims.dockerReference === ref.toString()) return { stored: false, referrer: false };
      } catch (err) {
        if (!(err instanceof SignatureRejected)) throw err;
      }
    }
    const payload = buildPayload(ref.toString(), subject.digest, CREATOR);
    return { stored: true, ...await writeSignature(repo, subject, { payload, signature: signPayload(payload, key) }) };
  }
}
