// The JSON-lines commands a script sends (cli/README.md): each is read with its schema into exactly its fields,
// and anything else is a CommandError with the command's own sentence, never a crash.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandError, parseCommand } from '../../../cli/events.js';

function refusal(line: string): string {
  try {
    parseCommand(line);
  } catch (error) {
    if (error instanceof CommandError) return error.message;
    throw error;
  }
  return 'accepted';
}

describe('parseCommand', () => {
  it('reads each command into its fields and drops the rest', () => {
    expect(parseCommand('{"cmd":"approve","mode":"control","x":1}')).toEqual({ cmd: 'approve', mode: 'control' });
    expect(parseCommand('{"cmd":"chat","text":"hi"}')).toEqual({ cmd: 'chat', text: 'hi' });
    expect(parseCommand('{"cmd":"input","data":"aGk="}')).toEqual({ cmd: 'input', bytes: new Uint8Array([104, 105]) });
    expect(parseCommand('{"cmd":"resize","cols":80,"rows":24}')).toEqual({ cmd: 'resize', cols: 80, rows: 24 });
    expect(parseCommand('{"cmd":"clipboard","allowed":false}')).toEqual({ cmd: 'clipboard', allowed: false });
    expect(parseCommand('{"cmd":"send-clipboard"}')).toEqual({ cmd: 'send-clipboard' });
    expect(parseCommand('{"cmd":"send-clipboard","text":"x"}')).toEqual({ cmd: 'send-clipboard', text: 'x' });
    expect(parseCommand('{"cmd":"extend"}')).toEqual({ cmd: 'extend' });
    expect(parseCommand('{"cmd":"extend","minutes":1440}')).toEqual({ cmd: 'extend', minutes: 1440 });
    expect(parseCommand('{"cmd":"end","reason":"bored"}')).toEqual({ cmd: 'end' });
  });

  it.each([
    ['not json', 'not JSON: send one JSON object per line'],
    ['[1]', 'a command is a JSON object with a "cmd" field'],
    ['{"cmd":"quit"}', '"cmd" must be one of approve, deny'],
    ['{"cmd":"toString"}', '"cmd" must be one of'],
    ['{"cmd":"approve","mode":"all"}', 'approve needs "mode": "view" or "control"'],
    ['{"cmd":"chat","text":""}', 'chat needs a non-empty "text"'],
    ['{"cmd":"input","data":"aGk"}', 'input needs "data": the bytes as base64'],
    ['{"cmd":"resize","cols":0,"rows":24}', 'resize needs whole numbers "cols" and "rows" from 1 to 10000'],
    ['{"cmd":"clipboard","allowed":"yes"}', 'clipboard needs "allowed": true or false'],
    ['{"cmd":"send-clipboard","text":null}', 'send-clipboard takes "text"'],
    ['{"cmd":"extend","minutes":1441}', 'extend takes "minutes": a whole number from 1 to 1440 (default 30)'],
  ])('refuses %s, saying what to send', (line, sentence) => {
    expect(refusal(line)).toContain(sentence);
  });

  it('fails only with a CommandError, whatever a script sends', () => {
    const anything = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.boolean(), fc.json());
    const command = fc
      .record({ cmd: fc.oneof(fc.constantFrom('approve', 'chat', 'input', 'resize', 'clipboard', 'send-clipboard', 'extend', 'end'), anything), mode: anything, text: anything, data: anything, cols: anything, rows: anything, allowed: anything, minutes: anything }, { requiredKeys: [] })
      .map((fields) => JSON.stringify(fields));
    fc.assert(
      fc.property(fc.oneof(fc.string(), command), (line) => {
        expect(typeof refusal(line)).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });
});
