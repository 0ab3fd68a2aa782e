/**
 * `npm run build:native` (run by `npm ci` through `prepare`): builds the native kernels addon
 * with node-gyp against Node's own headers. Its matrix products come from OpenBLAS when it is
 * found, else from refinery's own blocked SGEMM (gemm.c), which needs only the compiler a
 * fresh machine has. Optional: without a compiler it says so and the trainer uses WebAssembly.
 *
 * Where OpenBLAS is found, the own SGEMM is built beside it too (refinery_blas_portable.node):
 * the trainer multiplies with it at --threads 2 and more, where it was 1.21-1.90x faster than
 * OpenBLAS at the bench's shapes (OpenBLAS's threading costs more than these small products
 * gain), and tests check both. REFINERY_BLAS=portable builds the own SGEMM alone even where
 * OpenBLAS is (what a machine without it gets); REFINERY_BLAS=openblas builds OpenBLAS's addon
 * alone; REFINERY_BLAS=both is the default's old name.
 *
 * OpenBLAS is found by pkg-config (`openblas`, then `cblas`) when it answers, else by looking
 * in the usual places of this machine: /usr and /usr/local with the compiler's multiarch
 * folder (x86_64-linux-gnu, aarch64-linux-gnu, ...) and one level of subfolders
 * (openblas/, openblas-pthread/), and Homebrew's and MacPorts' prefixes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellWord } from '../../pipeline/core/shell.js';

/** Where OpenBLAS was found: compiler include folders and linker flags. */
interface Blas {
  how: string;
  include: string[];
  libraries: string[];
}

const PREFIXES = ['/usr', '/usr/local', '/opt/homebrew/opt/openblas', '/usr/local/opt/openblas', '/opt/homebrew', '/opt/local', '/opt/OpenBLAS'];
const LIBRARIES = ['libopenblas.so', 'libopenblas.dylib', 'libopenblas.a'];

/** A command's standard output, or null when it is missing or fails. */
function output(command: string, args: string[]): string | null {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** OpenBLAS's own cblas.h: it declares openblas_set_num_threads, which blas.c calls; another BLAS's does not. */
const openBlasHeader = (dir: string) => {
  const file = join(dir, 'cblas.h');
  return existsSync(file) && readFileSync(file, 'utf8').includes('openblas_set_num_threads');
};

const subdirs = (dir: string): string[] => {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.isSymbolicLink())
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
};

/**
 * A library folder outside /usr (/opt/OpenBLAS/lib, say) gets an rpath too, so the addon loads
 * the OpenBLAS it was linked with; the system's own are left to the loader (and Debian's
 * alternatives between OpenBLAS builds).
 */
const withRpath = (flags: string[]) => flags.flatMap((f) => (f.startsWith('-L') && !f.startsWith('-L/usr/') ? [f, `-Wl,-rpath,${f.slice(2)}`] : [f]));

function fromPkgConfig(): Blas | null {
  for (const name of ['openblas', 'cblas']) {
    const flags = output('pkg-config', ['--cflags', '--libs', name])?.split(/\s+/).filter(Boolean);
    if (!flags) continue;
    const include = flags.filter((f) => f.startsWith('-I')).map((f) => f.slice(2));
    if (![...include, '/usr/include'].some(openBlasHeader)) continue;
    return { how: `pkg-config ${name}`, include, libraries: withRpath(flags.filter((f) => !f.startsWith('-I'))) };
  }
  return null;
}

/** The compiler's multiarch folder name (x86_64-linux-gnu), or null (macOS, or no gcc). */
function multiarch(): string | null {
  return output('gcc', ['-print-multiarch']) || output('cc', ['-print-multiarch']) || null;
}

function candidates(arch: string | null): { include: string[]; lib: string[] } {
  const include: string[] = [];
  const lib: string[] = [];
  for (const prefix of PREFIXES) {
    for (const dir of [join(prefix, 'include'), ...(arch ? [join(prefix, 'include', arch)] : [])]) include.push(dir, ...subdirs(dir));
    for (const dir of [join(prefix, 'lib'), ...(arch ? [join(prefix, 'lib', arch)] : []), join(prefix, 'lib64')]) {
      lib.push(dir, ...subdirs(dir).filter((d) => d.includes('openblas')));
    }
  }
  return { include, lib };
}

function search(): Blas | { missing: string; arch: string | null } {
  const arch = multiarch();
  const { include, lib } = candidates(arch);
  const header = include.find(openBlasHeader);
  const library = lib.find((dir) => LIBRARIES.some((f) => existsSync(join(dir, f))));
  if (!header || !library) return { missing: !header && !library ? "neither OpenBLAS's cblas.h nor libopenblas is" : header ? 'libopenblas is not' : "OpenBLAS's cblas.h is not", arch };
  return { how: `${join(header, 'cblas.h')} and ${library}`, include: [header], libraries: withRpath([`-L${library}`, '-lopenblas']) };
}

/** Words for gyp's `<@(...)`, which splits a string as sh does. */
const shellWords = (words: string[]) => words.map(shellWord).join(' ');

const source = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'trainer', 'native');
// npm runs scripts with its own node-gyp and the nodedir of its config (Node's installed headers).
const gyp = process.env.npm_config_node_gyp ?? join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const nodedir = process.env.npm_config_nodedir ?? resolve(dirname(process.execPath), '..');

/** node-gyp rebuild with these gyp variables; null when it worked, else its last lines. */
function build(variables: string[]): string | null {
  const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--', ...variables.map((v) => `-D${v}`)], { cwd: source, encoding: 'utf8' });
  return r.status === 0 ? null : (r.stderr || r.stdout).split('\n').slice(-8).join('\n');
}

const mode = process.env.REFINERY_BLAS ?? '';
if (mode && !['portable', 'both', 'openblas'].includes(mode)) {
  console.log(`build:native: REFINERY_BLAS is "${mode}"; it may be unset (OpenBLAS when found, and the own SGEMM beside it in refinery_blas_portable.node), "portable" (refinery's own SGEMM alone), "openblas" (OpenBLAS alone) or "both" (the default)`);
  process.exit(1);
}
const found = mode === 'portable' ? { skipped: 'REFINERY_BLAS=portable' } : (fromPkgConfig() ?? search());
const portable = 'blas=portable';
let failure: string | null;
if ('how' in found) {
  console.log(`build:native: OpenBLAS from ${found.how}`);
  const portableToo = mode !== 'openblas';
  failure = build(['blas=openblas', `portable_too=${portableToo ? 1 : 0}`, `blas_include_dirs=${shellWords(found.include)}`, `blas_libraries=${shellWords(found.libraries)}`]);
  if (failure === null) {
    console.log(`build:native: built trainer/native/build/Release/refinery_blas.node (OpenBLAS products, fused attention, LayerNorm, GELU, cross-entropy, AdamW)${portableToo ? ' and refinery_blas_portable.node (own SGEMM, used at --threads 2 and more)' : ''}`);
    process.exit(0);
  }
  console.log(`build:native: the OpenBLAS build failed; building refinery's own SGEMM instead\n${failure}`);
} else if ('skipped' in found) {
  console.log(`build:native: ${found.skipped}: refinery's own SGEMM, OpenBLAS not looked for`);
} else {
  const where = `${PREFIXES.join(', ')} (include/ and lib/${found.arch ? `, their ${found.arch}/` : ''} and the folders in them)`;
  console.log(
    `build:native: OpenBLAS not found (pkg-config knows no "openblas" or "cblas", and ${found.missing} in any of ${where}); ` +
      "using refinery's own SGEMM (0.84-1.09x of OpenBLAS's training speed, measured; apt-get install libopenblas-dev or brew install openblas to use OpenBLAS)",
  );
}
failure = build([portable]);
if (failure !== null) {
  console.log(`build:native: node-gyp failed; the trainer will use WebAssembly matrix products\n${failure}`);
  process.exit(0);
}
console.log("build:native: built trainer/native/build/Release/refinery_blas.node (refinery's own SGEMM, fused attention, LayerNorm, GELU, cross-entropy, AdamW)");
