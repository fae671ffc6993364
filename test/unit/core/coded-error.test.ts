// Every error class the project defines has one base, CodedError, so each carries a typed `code` that the CLI
// and the console turn into sentences through one table each.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CodedError } from '../../../shared/core/coded-error.js';
import { RelayError } from '../../../shared/core/relay-error.js';

const root = join(import.meta.dirname, '../../..');
const sourceFolders = ['shared', 'sdk', 'cli', 'web/src', 'web/server', 'functions', 'infra', 'bench'];

describe('error classes', () => {
  const classes = sourceFolders.flatMap((folder) =>
    readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
      .filter((file) => /\.tsx?$/.test(file))
      .flatMap((file) => [...readFileSync(join(root, folder, file), 'utf8').matchAll(/class (\w+) extends (\w+)/g)].map((match) => ({ file: `${folder}/${file}`, name: match[1]!, base: match[2]! }))),
  );

  it('are found', () => {
    expect(classes.filter(({ base }) => base === 'CodedError').length).toBeGreaterThan(20);
  });

  it('extend CodedError, never Error directly', () => {
    expect(classes.filter(({ base }) => base === 'Error')).toEqual([]);
  });

  it('carry their code and message, and are still Errors', () => {
    const error = new RelayError('rate-limited', 'try again in 5 minutes');
    expect(error).toBeInstanceOf(CodedError);
    expect(error).toBeInstanceOf(Error);
    expect({ name: error.name, code: error.code, message: error.message }).toEqual({ name: 'RelayError', code: 'rate-limited', message: 'try again in 5 minutes' });
  });
});
