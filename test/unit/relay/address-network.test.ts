import { describe, expect, it } from 'vitest';
import { addressNetwork } from '../../../shared/server/use-cases/rate-limits.js';

describe('what per-address limits count by', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8:1:3::9', '2001:db8:1:3::/64'],
    ['::ffff:198.51.100.4', '198.51.100.4'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('%s counts as %s', (address, network) => {
    expect(addressNetwork(address)).toBe(network);
  });

  it('one subscriber rotating through its IPv6 /64 is one network; a neighbouring /64 is another', () => {
    const rotated = Array.from({ length: 50 }, (_, n) => addressNetwork(`2001:db8:aa:bb:${n.toString(16)}::${(n * 7).toString(16)}`));
    expect(new Set(rotated)).toEqual(new Set(['2001:db8:aa:bb::/64']));
    expect(addressNetwork('2001:db8:aa:bc::1')).not.toBe(rotated[0]);
  });

  it.each(['garbage:::', '1:2:3:4:5:6:7:8:9', '1::2::3', '::ffff:300.1.1.1', ''])('counts the unparsable %j as itself', (address) => {
    expect(addressNetwork(address)).toBe(address);
  });
});
