#!/usr/bin/env node
// The `assist` command. The project has no build step: tsx (a dependency) compiles the TypeScript
// sources as they load.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
