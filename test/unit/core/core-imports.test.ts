// shared/core/ is what clients and server share (design.md): it must not reach into the server (shared/server/:
// use cases, ports, adapters) nor into a client, so a browser bundle or a Lambda takes only what it needs; and
// the clients never import the server.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
/**
 * The packages core may use, all of which run in Node and browsers alike: hashing, Ed25519 for the operator's
 * signed group policies, and the schemas the wire messages are checked with.
 */
const corePackages = ['@noble/hashes/', '@noble/curves/', 'valibot'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.tsx?$/.test(file) && !file.includes('node_modules'))
    .map((file) => join(dir, file));
}

/** Each import of a file: a package name as written, or a relative import as a path from the repository root. */
function importsOf(file: string): string[] {
  const source = readFileSync(join(root, file), 'utf8');
  return [...source.matchAll(/(?:import|export)\s[^'";]*?from\s+'([^']+)'|import\s*\(?\s*'([^']+)'/g)].map((match) => {
    const path = (match[1] ?? match[2])!;
    return path.startsWith('.') ? relative(root, resolve(root, dirname(file), path)) : path;
  });
}

describe('shared/core', () => {
  const files = sourceFiles('shared/core');

  it('has modules', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files)('%s imports only core modules, hashing, signatures and valibot', (file) => {
    const outside = importsOf(file).filter((path) => !path.startsWith('shared/core/') && !corePackages.some((name) => path.startsWith(name)));
    expect(outside).toEqual([]);
  });
});

describe('the clients', () => {
  const files = ['sdk', 'cli', 'web/src'].flatMap(sourceFiles);

  it.each(files)('%s imports nothing of the server', (file) => {
    expect(importsOf(file).filter((path) => path.startsWith('shared/server/'))).toEqual([]);
  });
});
