// The operating systems devices report (Node's process.platform), as people write them: one table for the
// CLI's device list and the console's.

const OS_NAMES: Record<string, string> = { linux: 'Linux', darwin: 'macOS', win32: 'Windows' };

/** `linux` → `Linux`; a platform not listed stays as the device reported it. */
export const osName = (os: string) => OS_NAMES[os] ?? os;
