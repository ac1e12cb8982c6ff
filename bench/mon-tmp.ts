import { Redis } from "ioredis"
import { startRedisServer } from "/work/main/test/support/redisServer.ts"
const s = await startRedisServer()
const c = new Redis(s.url); const m = await new Redis(s.url).monitor()
m.on("monitor", (time, args, source, db) => console.log(source, args.slice(0,3)))
await c.multi().set("a","1").incr("b").exec()
await c.eval("redis.call('set','x','1') return 1", 0)
await c.pipeline().get("a").get("b").exec()
await c.echo("end")
await new Promise(r=>setTimeout(r,200))
c.disconnect(); m.disconnect(); await s.stop()
