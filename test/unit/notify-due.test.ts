import { describe, expect, it } from 'vitest';
import { dueLine, dueMessages, dueSince, dueText, overdue, type RecordedDelivery } from '../../src/core/notify/due.js';

const H = 3_600_000;
const D = 24 * H;
// A release every 14 days from Wed 2026-01-07 10:00 UTC (announce 48 h, freeze 24 h: the config's defaults).
const schedule = { every: '14d', anchor: '2026-01-07T10:00:00Z', freeze: '24h', announce: '48h' };
const anchor = Date.parse('2026-01-07T10:00:00Z');
const release = anchor + 14 * D; // Wed 2026-01-21 10:00 UTC
const announceDue = release - 48 * H; // Mon 10:00
const windowDue = release - 24 * H; // Tue 10:00

const delivered = (message: string, at: number, version: string | null = '1.5.0'): RecordedDelivery => ({
  message,
  version,
  at,
  sessionId: `s-${message}-${at}`,
});

describe('due times of the pre-release messages', () => {
  it('without a schedule, nothing is due', () => {
    expect(dueMessages(undefined, anchor, '1.5.0', [])).toEqual([]);
  });

  it('before they are due: the announcement 48 h and the maintenance window 24 h before the release, not sent', () => {
    const now = announceDue - 3 * H;
    const [a, w] = dueMessages(schedule, now, '1.5.0', []);
    expect(a).toMatchObject({ message: 'release-announcement', release, due: announceDue, untilMs: 3 * H, sent: null, state: 'upcoming' });
    expect(w).toMatchObject({ message: 'maintenance-window', due: windowDue, untilMs: 27 * H, state: 'upcoming' });
    expect(dueText(a, now)).toBe('announcement for v1.5.0 due Mon 10:00 UTC, in 3 h, not sent');
    expect(dueText(w, now)).toBe('maintenance window for v1.5.0 due Tue 10:00 UTC, in 27 h, not sent');
  });

  it('days ahead, the span is in days and hours', () => {
    const now = announceDue - 3 * D - 5 * H;
    expect(dueText(dueMessages(schedule, now, '1.5.0', [])[0], now)).toBe(
      'announcement for v1.5.0 due Mon 10:00 UTC, in 3 d 5 h, not sent',
    );
  });

  it('at the due time, it is due now', () => {
    const [a] = dueMessages(schedule, announceDue, '1.5.0', []);
    expect(a.state).toBe('due');
    expect(dueText(a, announceDue)).toBe('announcement for v1.5.0 due Mon 10:00 UTC, now, not sent');
  });

  it('after the due time and not sent: overdue, until the release', () => {
    const now = announceDue + 5 * H;
    const [a, w] = dueMessages(schedule, now, '1.5.0', []);
    expect(a).toMatchObject({ state: 'overdue', untilMs: -5 * H });
    expect(w.state).toBe('upcoming');
    expect(dueText(a, now)).toBe('announcement for v1.5.0 due Mon 10:00 UTC, 5 h ago, not sent (overdue)');
    // Once the release is past, the next release's messages are the ones due.
    const after = dueMessages(schedule, release + H, '1.6.0', []);
    expect(after[0]).toMatchObject({ release: release + 14 * D, state: 'upcoming' });
  });

  it('sent: a delivery of that message for that version since the previous release', () => {
    const sentAt = announceDue - 2 * H;
    const now = announceDue + H;
    const [a, w] = dueMessages(schedule, now, '1.5.0', [delivered('release-announcement', sentAt, 'v1.5.0')]);
    expect(a).toMatchObject({ state: 'sent', sent: { at: sentAt } });
    expect(w.state).toBe('upcoming');
    expect(dueText(a, now)).toBe('announcement for v1.5.0 due Mon 10:00 UTC, 1 h ago, sent Mon 08:00 UTC');
  });

  it('a delivery does not count for another version, another message, or from before the previous release', () => {
    const now = announceDue - H;
    expect(dueSince(schedule, now)).toBe(anchor);
    const others = [
      delivered('release-announcement', announceDue - 2 * H, '1.4.0'),
      delivered('deployment-confirmation', announceDue - 2 * H),
      delivered('release-announcement', anchor - H),
    ];
    expect(dueMessages(schedule, now, '1.5.0', others).map((d) => d.state)).toEqual(['upcoming', 'upcoming']);
  });

  it('with the version unknown: any delivery of the message since the previous release counts, and the line says "the next release"', () => {
    const now = windowDue + 2 * H;
    const [a, w] = dueMessages(schedule, now, null, [delivered('maintenance-window', windowDue - H)]);
    expect(w.state).toBe('sent');
    expect(a.state).toBe('overdue');
    expect(dueText(a, now)).toBe('announcement for the next release due Mon 10:00 UTC, 26 h ago, not sent (overdue)');
  });

  it("the home screen's line: the first not sent in full, a later one by its due time, a sent one by when it was sent", () => {
    const now = announceDue - 3 * H;
    expect(dueLine(dueMessages(schedule, now, '1.5.0', []), now)).toBe(
      'announcement for v1.5.0 due Mon 10:00 UTC, in 3 h, not sent · maintenance window due Tue 10:00',
    );
    expect(dueLine(dueMessages(schedule, now, null, []), now)).toMatch(/^announcement due Mon 10:00 UTC, in 3 h, not sent · /);
    const sent = dueMessages(schedule, windowDue + H, '1.5.0', [delivered('release-announcement', announceDue - 2 * H)]);
    expect(dueLine(sent, windowDue + H)).toBe(
      'announcement sent Mon 08:00 UTC · maintenance window for v1.5.0 due Tue 10:00 UTC, 1 h ago, not sent (overdue)',
    );
    expect(overdue(sent, windowDue + H)).toBe(true);
    expect(overdue(sent, windowDue - H)).toBe(false);
  });
});
