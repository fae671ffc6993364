// Nameplates cannot be listed (issue 14): the relay URL's page looks nothing up and answers every
// nameplate alike, and its views still share one count per address (IPv6: per /64) with joins, so
// a scan through joins is refused like one through the page, with the same refusal for every nameplate.
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../shared/core/messages.js';
import { useLocalRuntime } from '../support/runtime.js';
import { TestSocket } from '../support/ws-client.js';

const LIMIT = 6;
const runtime = useLocalRuntime({ policy: { joinsPerSourceIp: LIMIT } });

const page = async (nameplate: string) => {
  const response = await fetch(`${runtime().httpUrl}/join/${nameplate}`);
  return { status: response.status, body: await response.text() };
};

describe('a nameplate scan through the relay URL page', () => {
  it('gets one answer for open and unknown nameplates, and is counted with joins and refused at the per-address limit', async () => {
    const creator = await TestSocket.open(runtime().wsUrl);
    const created = (await creator.request({ action: 'createSession', kind: 'file' })) as Extract<ServerMessage, { type: 'sessionCreated' }>;
    const unknown = created.nameplate === 'ZZZZ' ? 'YYYY' : 'ZZZZ';

    // Page views and joins draw on one count: LIMIT uses in all, whichever way.
    const [openPage, unknownPage] = [await page(created.nameplate), await page(unknown)];
    expect(openPage.status).toBe(200);
    expect(openPage).toEqual(unknownPage);
    const joiner = await TestSocket.open(runtime().wsUrl);
    expect(await joiner.request({ action: 'joinSession', nameplate: unknown })).toMatchObject({ code: 'session-not-found' });
    for (let n = 3; n < LIMIT; n++) expect(await page(unknown)).toEqual(openPage);

    const [known, notKnown] = [await page(created.nameplate), await page(unknown)];
    expect(known.status).toBe(429);
    expect(known).toEqual(notKnown);
    expect(known.body).not.toContain(created.nameplate);
    expect(await joiner.request({ action: 'joinSession', nameplate: created.nameplate })).toMatchObject({ code: 'rate-limited' });
    creator.close();
    joiner.close();
  });
});
