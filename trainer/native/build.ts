/**
 * `npm run build:native` (run by `npm ci` through `prepare`): builds the OpenBLAS matrix
 * product addon with node-gyp against Node's own headers. Optional: without OpenBLAS
 * (Debian: apt-get install libopenblas-dev) or a compiler it says so and the trainer uses
 * WebAssembly's matrix product instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'trainer', 'native');
const header = ['/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/cblas.h', '/usr/include/openblas/cblas.h'].find(existsSync);
if (!header) {
  console.log('build:native: no OpenBLAS headers (apt-get install libopenblas-dev): the trainer will use WebAssembly matrix products');
  process.exit(0);
}
// npm runs scripts with its own node-gyp and the nodedir of its config (Node's installed headers).
const gyp = process.env.npm_config_node_gyp ?? join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const nodedir = process.env.npm_config_nodedir ?? resolve(dirname(process.execPath), '..');
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], { cwd: source, encoding: 'utf8' });
if (r.status !== 0) {
  console.log(`build:native: node-gyp failed; the trainer will use WebAssembly matrix products\n${(r.stderr || r.stdout).split('\n').slice(-8).join('\n')}`);
  process.exit(0);
}
console.log('build:native: built trainer/native/build/Release/refinery_blas.node (OpenBLAS products, fused attention, LayerNorm)');
