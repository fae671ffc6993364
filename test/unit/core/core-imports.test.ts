// shared/core/ is what clients and server share (design.md): it must not reach into the server's use cases,
// ports or adapters, nor into a client, so a browser bundle or a Lambda takes only what it needs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const coreDir = join(import.meta.dirname, '../../../shared/core');

describe('shared/core', () => {
  const files = readdirSync(coreDir).filter((file) => file.endsWith('.ts'));

  it('has modules', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s imports only other core modules', (file) => {
    const source = readFileSync(join(coreDir, file), 'utf8');
    const imports = [...source.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'/g)].map((match) => match[1]!);
    expect(imports.filter((path) => !path.startsWith('./'))).toEqual([]);
  });
});
