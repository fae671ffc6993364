// Time limits in scripting mode: both sides are told the session's hard limit at approval and when
// it moves, warned before it (here the 1-minute warning, with a 70-second session), and the person
// adds time with {"cmd":"extend"} up to the relay's cap; the technician cannot.
import { expect, it } from 'vitest';
import { hangUpAfterEnd, expectCleanExit, useAssist } from '../support/cli.js';
import { useLocalRuntime } from '../support/runtime.js';

const runtime = useLocalRuntime({ policy: { sessionTtlSeconds: 70, maxSessionTtlSeconds: 70 + 600 } });
const { assist } = useAssist(() => runtime().httpUrl);

it('tells both sides the limit and warns before it; the person extends it up to the cap', async () => {
  const agent = assist('invite', '--easy-connect', '--name', 'Ada', '--command', 'cat');
  const expert = assist('join', (await agent.next('invitation')).password as string, '--name', 'Bob');
  await Promise.all([agent.next('connected'), expert.next('connected')]);
  agent.send({ cmd: 'approve', mode: 'view' });
  const [limit, seen] = await Promise.all([agent.next('time-limit'), expert.next('time-limit')]);
  expect(seen.expiresAt).toBe(limit.expiresAt);
  // Over 60 s left at approval, so the 1-minute warning is still ahead even when approval is slow.
  expect(limit.secondsLeft).toBeGreaterThan(60);
  expect(limit.secondsLeft).toBeLessThanOrEqual(70);

  // 70 seconds: the 5-minute warning is already past, the 1-minute one comes about 10 s in.
  const [warned, expertWarned] = await Promise.all([agent.next('expiry-warning'), expert.next('expiry-warning')]);
  expect(warned).toEqual({ event: 'expiry-warning', secondsLeft: 60, expiresAt: limit.expiresAt });
  expect(expertWarned).toEqual(warned);

  expert.send({ cmd: 'extend' });
  expect(await expert.next('error')).toMatchObject({ code: 'wrong-side' });
  agent.send({ cmd: 'extend', minutes: 30 });
  const [moved, expertMoved] = await Promise.all([agent.next('time-limit'), expert.next('time-limit')]);
  // Capped: approval + 670 s, which is where the limit now is.
  expect(Date.parse(moved.expiresAt as string) - Date.parse(limit.expiresAt as string)).toBe(600_000);
  expect(moved.maxExpiresAt).toBe(moved.expiresAt);
  expect(expertMoved.expiresAt).toBe(moved.expiresAt);
  agent.send({ cmd: 'extend' });
  expect(await agent.next('error')).toMatchObject({ code: 'at-time-limit' });

  agent.send({ cmd: 'end' });
  await expert.next('ended');
  await expectCleanExit(expert, 0);
  await hangUpAfterEnd(agent);
});
