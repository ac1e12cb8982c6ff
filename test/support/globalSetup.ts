/**
 * Vitest global setup: integration tests get a real Redis. When `REDIS_URL` is set it is used as is (and never
 * flushed: every test works under its own key prefix); otherwise a private `redis-server` is started on a free
 * loopback port and stopped by pid when the run ends.
 */
import type { TestProject } from "vitest/node"
import { startRedisServer } from "./redisServer.ts"

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string
  }
}

export default async function setup(project: TestProject) {
  const fromEnv = process.env["REDIS_URL"]
  if (fromEnv) {
    project.provide("redisUrl", fromEnv)
    return
  }
  const server = await startRedisServer()
  project.provide("redisUrl", server.url)
  return async () => {
    await server.stop()
  }
}
