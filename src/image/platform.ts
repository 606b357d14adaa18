// The host's platform in the OCI image spec's words (GOARCH names), for images made or pulled here.
import * as os from 'node:os';

export function hostArchitecture(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[os.arch()] ?? os.arch();
}
