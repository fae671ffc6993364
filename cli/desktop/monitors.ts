// `assist monitors` and `--monitor N`: monitors are numbered 1, 2, … in the order the system lists them.

import { DesktopError } from './errors.js';
import type { MonitorInfo } from './ports.js';

/** Monitor `number`, or (none given) the primary one, or the first when none says it is primary (Xvfb). */
export function chooseMonitor(monitors: readonly MonitorInfo[], number: number | undefined): MonitorInfo {
  if (monitors.length === 0) throw new DesktopError('no-monitor', 'no monitor was found to share: check that a screen is connected and switched on');
  if (number === undefined) return monitors.find((monitor) => monitor.primary) ?? monitors[0]!;
  const chosen = monitors.find((monitor) => monitor.number === number);
  if (!chosen) {
    throw new DesktopError('no-monitor', `there is no monitor ${number}: this machine has ${monitors.length === 1 ? 'monitor 1 only' : `monitors 1 to ${monitors.length}`} (see \`assist monitors\`)`);
  }
  return chosen;
}

/** One line per monitor, for people. */
export function describeMonitors(monitors: readonly MonitorInfo[]): string {
  if (monitors.length === 0) return 'No monitors found.';
  const lines = monitors.map(
    (monitor) =>
      `  ${monitor.number}  ${monitor.name.padEnd(12)} ${`${monitor.width}×${monitor.height}`.padEnd(10)} at ${monitor.x},${monitor.y}` +
      `${monitor.scaleFactor !== 1 ? `  scale ${monitor.scaleFactor}` : ''}${monitor.primary ? '  (primary)' : ''}`,
  );
  return ['Monitors (share one with --desktop --monitor N):', ...lines].join('\n');
}
