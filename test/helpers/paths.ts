// Paths from the repository root, so tests compiled to dist-test/ still find fixtures kept beside the sources.
import * as fs from 'node:fs';
import * as path from 'node:path';

function findRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json'))) return d;
    if (path.dirname(d) === d) throw new Error(`no package.json above ${dir}`);
  }
}

/** The repository checkout the tests belong to. */
export const repoRoot = findRoot(__dirname);

/** test/unit/fixtures in the checkout. */
export const unitFixtures = path.join(repoRoot, 'test', 'unit', 'fixtures');
