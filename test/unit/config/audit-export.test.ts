// The operator's audit export: which logs --device, --technician and --since select, and CSV that a
// spreadsheet reads as data (quoted fields, formulas defused).
import { describe, expect, it } from 'vitest';
import { csvRows, CSV_COLUMNS, parseSince, selectLogs, type AuditFilter, type AuditLog } from '../../../infra/audit-export.js';
import { parseDurationSeconds } from '../../../shared/core/durations.js';

const technician = { issuer: 'https://login.example.org', subject: 'ada', name: 'Ada Lovelace', email: 'Ada@Example.org' };
const offer: AuditLog = {
  sessionId: 's1',
  events: [
    { at: 1000, event: 'created', role: 'expert', nameplate: 'K7QX' },
    { at: 1001, event: 'offered', role: 'expert', sourceIp: '192.0.2.7', technician, deviceId: 'd1', deviceName: 'Reception PC', reason: 'INC-42, "printer"' },
    { at: 1030, event: 'offer-answered', role: 'agent', deviceId: 'd1', deviceName: 'Reception PC', detail: 'control' },
  ],
};
const invited: AuditLog = { sessionId: 's2', events: [{ at: 5000, event: 'created', role: 'agent' }] };

const matchesFilter = (log: AuditLog, filter: AuditFilter) => selectLogs([log], filter).length === 1;

describe('the audit export', () => {
  it('selects by device id or name, technician subject, e-mail or name, and time', () => {
    for (const filter of [{ device: 'd1' }, { device: 'Reception PC' }, { technician: 'ada' }, { technician: 'ada@example.org' }, { technician: 'Ada Lovelace' }, { since: 1030 }]) {
      expect(matchesFilter(offer, filter)).toBe(true);
      expect(matchesFilter(invited, filter)).toBe(filter.since !== undefined);
    }
    expect(matchesFilter(offer, { since: 1031 })).toBe(false);
    expect(matchesFilter(offer, { device: 'd1', technician: 'grace' })).toBe(false);
  });

  it('finds a device by name in the logs that name it by its id alone (a removed device’s refused sign-ins)', () => {
    const enrolled: AuditLog = { sessionId: 'd1', events: [{ at: 900, event: 'enrolled', deviceId: 'd1', deviceName: 'Reception PC', detail: 'Front desk (token abc)' }] };
    const refused: AuditLog = { sessionId: 'd1/sign-ins/1970-01-01', events: [{ at: 2000, event: 'device-sign-in-refused', deviceId: 'd1', detail: 'not-enrolled' }] };
    const other: AuditLog = { sessionId: 'd2/sign-ins/1970-01-01', events: [{ at: 2000, event: 'device-sign-in-refused', deviceId: 'd2', detail: 'not-enrolled' }] };
    const logs = [offer, invited, enrolled, refused, other];
    expect(selectLogs(logs, { device: 'Reception PC' })).toEqual([offer, enrolled, refused]);
    expect(selectLogs(logs, { device: 'd1' })).toEqual([offer, enrolled, refused]);
    expect(selectLogs(logs, { device: 'd2' })).toEqual([other]);
    expect(selectLogs(logs, { device: 'Reception PC', since: 1500 })).toEqual([refused]);
  });

  it('takes --since as a duration back or an ISO time, nothing else', () => {
    expect(parseSince('7d', 1_000_000, parseDurationSeconds)).toBe(1_000_000 - 7 * 86_400);
    expect(parseSince('2026-12-01T09:00:00Z', 0, parseDurationSeconds)).toBe(Date.parse('2026-12-01T09:00:00Z') / 1000);
    expect(parseSince('yesterday', 0, parseDurationSeconds)).toBeUndefined();
  });

  it('writes one CSV row per event, quoting commas and quotes, defusing formulas', () => {
    const rows = csvRows(offer);
    expect(rows).toHaveLength(3);
    expect(rows[1]!.split(',').slice(0, 6)).toEqual(['s1', '1970-01-01T00:16:41.000Z', 'offered', 'expert', '192.0.2.7', '']);
    expect(rows[1]).toContain(',https://login.example.org,ada,Ada Lovelace,Ada@Example.org,d1,Reception PC,"INC-42, ""printer"""');
    expect(csvRows({ sessionId: 's', events: [{ at: 0, event: 'offered', reason: '=HYPERLINK("x")' }] })[0]).toContain(`"'=HYPERLINK(""x"")"`);
    expect(CSV_COLUMNS).toHaveLength(rows[0]!.split(',').length);
  });
});
