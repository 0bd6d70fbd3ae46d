// Builds the native addons for the running Node's ABI — the batch produce and consume (native/lux_native.c, against node-rdkafka's librdkafka), the record serializer (native/record_json.c), the KPI batch partials (native/kpi_partials.c) and thread names (native/thread_name.c) — skipped when up to date.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const rdkafkaDir = path.dirname(require.resolve('node-rdkafka/package.json'));
const librdkafka = path.join(rdkafkaDir, 'build', 'deps', 'librdkafka.so.1');
const outDir = path.join(here, 'build', `abi-${process.versions.modules}`);
const addons = ['lux_native', 'lux_json', 'lux_kpi', 'lux_thread'];

if (!existsSync(librdkafka)) {
  console.error(`native: ${librdkafka} is missing: node-rdkafka was not built (run npm ci, or npm rebuild node-rdkafka)`);
  process.exit(1);
}
const inputs = [path.join(here, 'lux_native.c'), path.join(here, 'record_json.c'), path.join(here, 'kpi_partials.c'), path.join(here, 'thread_name.c'), path.join(here, 'layout.h'), path.join(here, 'napi_util.h'), path.join(here, 'binding.gyp'), librdkafka, fileURLToPath(import.meta.url)];
const newest = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
const outs = addons.map((a) => path.join(outDir, `${a}.node`));
if (outs.every((o) => existsSync(o) && statSync(o).mtimeMs >= newest)) process.exit(0);

// npm tells its scripts where its own node-gyp is; outside npm, the one npm ships beside this node, else PATH's.
const bundled = path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp || (existsSync(bundled) ? bundled : '');
const [cmd, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
// The headers: npm's nodedir when set (CI's Node 24), else those installed beside this node — never a download.
const prefix = path.resolve(path.dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : '');
const flags = ['rebuild', `--directory=${here}`, ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
execFileSync(cmd, [...args, ...flags], { stdio: ['ignore', 'ignore', 'inherit'] });
mkdirSync(outDir, { recursive: true });
for (const a of addons) copyFileSync(path.join(here, 'build', 'Release', `${a}.node`), path.join(outDir, `${a}.node`));
console.log(`native: built ${outs.map((o) => path.relative(process.cwd(), o)).join(', ')} (Node ${process.version}, librdkafka of ${path.relative(process.cwd(), rdkafkaDir) || '.'})`);
