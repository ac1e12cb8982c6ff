/**
 * The two Redis backends every backend-independent suite runs against: the in-memory layer and a real
 * `redis-server` (started by the global setup, or `REDIS_URL`). Each call gets a fresh namespace, so tests
 * never see each other's keys and nothing is ever flushed on a server the tests did not start.
 */
import { randomUUID } from "node:crypto"
import type { Layer } from "effect"
import { inject } from "vitest"
import type { RedisError } from "../../src/domain/Errors.ts"
import * as Redis from "../../src/layers/Redis.ts"
import * as RedisMemory from "../../src/layers/RedisMemory.ts"

export interface Backend {
  readonly name: "memory" | "redis"
  /** A Redis layer under a namespace of its own (pass the same namespace to share it between layers). */
  readonly layer: (namespace?: string) => Layer.Layer<Redis.Redis, RedisError>
}

export const uniqueNamespace = (): string => `test-${randomUUID().slice(0, 8)}`

export const redisUrl = (): string => inject("redisUrl")

export const memory: Backend = {
  name: "memory",
  layer: (namespace = uniqueNamespace()) => RedisMemory.layer({ namespace })
}

export const real: Backend = {
  name: "redis",
  layer: (namespace = uniqueNamespace()) => Redis.layer({ url: redisUrl(), namespace })
}

export const backends: ReadonlyArray<Backend> = [memory, real]
