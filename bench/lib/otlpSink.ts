/**
 * The collector of the traced variants: an OTLP/HTTP sink on a free loopback port that answers every export
 * and counts the spans it received (OTLP JSON, counted without parsing: a span has a `"kind"`, a link or an
 * attribute has none). It runs in the case process, so its share of the work (reading the requests) is
 * counted in the measured system's CPU: an upper bound of the exporter's cost, the same for every system. (A
 * sink in a process of its own measured no better on this 2-core machine: its reads compete with the
 * worker's and Redis's.)
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

export interface OtlpSink {
  /** The sink's base URL (`http://127.0.0.1:PORT`); traces go to `${url}/v1/traces`. */
  readonly url: string
  /** Spans received so far. */
  readonly spans: () => number
  /** Stops listening and drops open connections. */
  readonly close: () => void
}

const spanMark = Buffer.from('"kind":')

/** Starts a sink. */
export const startOtlpSink = (): Promise<OtlpSink> =>
  new Promise((resolve) => {
    let spans = 0
    const server = createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        const body = Buffer.concat(chunks)
        for (let at = body.indexOf(spanMark); at >= 0; at = body.indexOf(spanMark, at + spanMark.length)) spans++
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        spans: () => spans,
        close: () => {
          server.close()
          server.closeAllConnections()
        }
      }))
  })
