#!/usr/bin/env node
/**
 * The package's own command line (`effect-resque`): an operator's tool for any Resque Redis, with no actions
 * of its own, so it never runs a job: `status`, `queue`, `failed` (list, retry, remove), `workers` and
 * `fanout-status`. An application builds the full command line (run, enqueue, fan out, work) for its own
 * actions with `effect-resque/cli`.
 *
 * @since 0.1.0
 */
import * as Cli from "./cli/Cli.ts"

Cli.runMain({
  name: "effect-resque",
  version: "0.2.0",
  description: "Inspect and manage a Resque Redis: queues, failed jobs, workers, fan-outs (effect-resque)",
  actions: []
})
