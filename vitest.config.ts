import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites each start their own runtime on a free port; two workers match the 2-core machines.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    pool: 'forks',
    // The pinned AWS SDK supports Node 20; its notice about future releases is noise in test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // `assist` keeps approved sessions in $XDG_STATE_HOME/assist: tests keep theirs apart from the user's.
    setupFiles: ['test/support/state-home.ts'],
  },
});
