// Builds the status page into dist/web/status/index.html: esbuild bundles web/status/main.ts (with uPlot, dagre and the CSS), minified, inlined into one self-contained file.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist', 'web', 'status');

const result = await build({
  entryPoints: [path.join(root, 'web', 'status', 'main.ts')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  outdir: outDir,
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
});
const js = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
const css = result.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
// `</script` inside the bundle would end the inline script early
const safeJs = js.replaceAll('</script', '<\\/script');
const template = fs.readFileSync(path.join(root, 'web', 'status', 'index.html'), 'utf8');
const html = template.replace('/*STYLE*/', () => css).replace('/*SCRIPT*/', () => safeJs);
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'index.html'), html);
const { gzipSync } = await import('node:zlib');
console.log(`status page: dist/web/status/index.html ${(html.length / 1024).toFixed(1)} KiB, ${(gzipSync(html).length / 1024).toFixed(1)} KiB gzipped`);
