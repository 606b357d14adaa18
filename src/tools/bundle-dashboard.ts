// Build step: bundles the dashboard's page (src/dashboard/web/ui, preact + htm, uPlot, xterm.js) with esbuild into
// dist/dashboard/: index.html and assets/dashboard.js and assets/dashboard.css (uPlot's and xterm's CSS included).
// Everything the page loads is served by `berth dashboard` itself: no CDN, nothing from outside.
// Usage: node dist/tools/bundle-dashboard.js [OUT_DIR]
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where the page's sources are, from the built tool (dist/tools) back to the repository's src/. */
export const WEB_SOURCES = path.join(__dirname, '..', '..', 'src', 'dashboard', 'web');

/** Writes `<outDir>/index.html` and `<outDir>/assets/*` (made aside, then swapped in whole). */
export async function bundleDashboard(outDir: string, sources = WEB_SOURCES): Promise<void> {
  const esbuild = await import('esbuild');
  const tmp = `${outDir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: { dashboard: path.join(sources, 'ui', 'main.ts') },
    outdir: path.join(tmp, 'assets'),
    bundle: true,
    minify: true,
    sourcemap: false,
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    format: 'iife',
    legalComments: 'none',
    logLevel: 'warning',
    // The page is served under a Content-Security-Policy without 'unsafe-eval': no code may be built from strings.
    supported: { 'dynamic-import': false },
  });
  fs.copyFileSync(path.join(sources, 'index.html'), path.join(tmp, 'index.html'));
  // dist/dashboard also holds the server's compiled modules: only the page's own files are replaced.
  fs.mkdirSync(outDir, { recursive: true });
  fs.rmSync(path.join(outDir, 'assets'), { recursive: true, force: true });
  fs.renameSync(path.join(tmp, 'assets'), path.join(outDir, 'assets'));
  fs.renameSync(path.join(tmp, 'index.html'), path.join(outDir, 'index.html'));
  fs.rmSync(tmp, { recursive: true, force: true });
}

if (require.main === module) {
  bundleDashboard(path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dashboard'))).catch((err: unknown) => {
    process.stderr.write(`bundle-dashboard: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
