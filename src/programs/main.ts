#!/usr/bin/env node
/**
 * The package's own CLI (`effect-resque`), for the demo actions. Your application writes the same few lines
 * with its own actions (see `programs/cli/Cli.ts`).
 *
 * @since 0.1.0
 */
import * as Cli from "./cli/Cli.ts"
import { demoActions } from "./demoActions.ts"

Cli.runMain({
  name: "effect-resque",
  version: "0.1.0",
  description: "Effect-native background jobs on Redis, speaking the Resque protocol (demo actions)",
  actions: demoActions
})
