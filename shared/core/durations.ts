const unitSeconds = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** "90s", "10m", "2h", "7d", or plain seconds; undefined for anything else (zero included). */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * unitSeconds[match[2] as keyof typeof unitSeconds];
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : undefined;
}
