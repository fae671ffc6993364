// A session restored with `assist resume` watches its time limit as a fresh one does: the restored
// side is told the limit again and still gets the warning before it (here the 1-minute warning of a
// 70-second session, which falls after the technician's process died and came back).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { expectCleanExit, hangUpAfterEnd, useAssist } from '../support/cli.js';
import { useLocalRuntime } from '../support/runtime.js';

const runtime = useLocalRuntime({ policy: { sessionTtlSeconds: 70, maxSessionTtlSeconds: 70 } });
const { assist, start } = useAssist(() => runtime().httpUrl);

it('a restored technician is told the time limit again and warned before it', async () => {
  const technicianHome = mkdtempSync(join(process.env.XDG_STATE_HOME ?? tmpdir(), 'side-'));
  const agent = assist('invite', '--easy-connect', '--name', 'Ada', '--command', 'cat');
  const { password } = await agent.next('invitation');
  const technician = start(['join', password as string, '--name', 'Bob', '--json', '--relay', runtime().httpUrl], { env: { XDG_STATE_HOME: technicianHome } });
  await Promise.all([agent.next('connected'), technician.next('connected')]);
  agent.send({ cmd: 'approve', mode: 'view' });
  const limit = await agent.next('time-limit');
  await technician.next('approved');

  technician.kill();
  await agent.next('peer');
  const restored = start(['resume', '--json'], { env: { XDG_STATE_HOME: technicianHome } });
  await restored.next('session-restored');
  expect(restored.events.filter((event) => event.event === 'time-limit')).toEqual([expect.objectContaining({ expiresAt: limit.expiresAt })]);
  // Warnings are armed from the restored limit: the 1-minute one comes about 10 seconds after approval.
  expect(await restored.next('expiry-warning')).toEqual({ event: 'expiry-warning', secondsLeft: 60, expiresAt: limit.expiresAt });

  agent.send({ cmd: 'end' });
  await restored.next('ended');
  await expectCleanExit(restored, 0);
  await hangUpAfterEnd(agent);
});
