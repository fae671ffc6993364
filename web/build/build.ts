import { fileURLToPath } from 'node:url';
import config from '../vite.config.js';

/** Where `npm run build:web` puts the console, and where the local runtime serves it from. */
export const consoleDist = fileURLToPath(new URL('../dist/', import.meta.url));

/** Builds the console into `outDir` (tests build their own copy) and returns the folder. */
export async function buildConsole(outDir: string = consoleDist): Promise<string> {
  const { build } = await import('vite');
  await build({ ...config, configFile: false, build: { ...config.build, outDir, emptyOutDir: true } });
  return outDir;
}
