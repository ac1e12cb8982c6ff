import { defineConfig } from "vitest/config"

/**
 * The reliability suite (`npm run test:reliability`): multi-process failure scenarios and the soak, on real
 * redis-servers. Files run one at a time: each starts worker processes and measures them on a 2-core machine.
 */
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 60_000
  }
})
