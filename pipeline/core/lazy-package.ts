/**
 * Packages loaded on first use. The CLI and every pool worker start by importing all the
 * stages' modules (the CLI builds every command's options from them); importing linkedom,
 * undici, htmlparser2 or libphonenumber's metadata there cost about a second per process,
 * paid by commands that never parse HTML or fetch a URL. `require` loads ESM-only packages
 * too (Node >= 20.19), so a call site stays synchronous.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A getter for package `name`: the first call loads it, later calls return it. */
export function lazyPackage<T>(name: string): () => T {
  let loaded: { value: T } | undefined;
  return () => (loaded ??= { value: require(name) as T }).value;
}
