/**
 * A local OTLP/HTTP receiver for tests: a plain HTTP server on a free loopback port that keeps every span
 * posted to `/v1/traces` and every metric posted to `/v1/metrics` (OTLP JSON), as Effect's OTLP exporters
 * send them.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"

type AnyValue = { readonly stringValue?: string; readonly intValue?: string | number; readonly boolValue?: boolean; readonly doubleValue?: number }

/** A span as received, with its attributes flattened. */
export interface ReceivedSpan {
  readonly name: string
  readonly kind: "internal" | "server" | "client" | "producer" | "consumer" | "unspecified"
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>
  readonly attributes: Readonly<Record<string, unknown>>
  readonly status: number | undefined
}

const kinds = ["unspecified", "internal", "server", "client", "producer", "consumer"] as const

const valueOf = (value: AnyValue): unknown =>
  value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : value.boolValue ?? value.doubleValue)

const attributesOf = (list: ReadonlyArray<{ key: string; value: AnyValue }> | undefined) =>
  Object.fromEntries((list ?? []).map(({ key, value }) => [key, valueOf(value)]))

/** Decodes one OTLP JSON traces request. */
const spansOf = (body: any): ReadonlyArray<ReceivedSpan> =>
  (body.resourceSpans ?? []).flatMap((resource: any) =>
    (resource.scopeSpans ?? []).flatMap((scope: any) =>
      (scope.spans ?? []).map((span: any): ReceivedSpan => ({
        name: span.name,
        kind: kinds[span.kind ?? 0] ?? "unspecified",
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ? span.parentSpanId : undefined,
        links: (span.links ?? []).map((link: any) => ({ traceId: link.traceId, spanId: link.spanId })),
        attributes: attributesOf(span.attributes),
        status: span.status?.code
      }))
    )
  )

/** The receiver in the current scope: its base URL, and what it received so far. */
export const otlpReceiver = Effect.acquireRelease(
  Effect.callback<{ readonly url: string; readonly spans: Array<ReceivedSpan>; readonly metrics: Array<unknown>; readonly close: () => void }>((resume) => {
    const spans: Array<ReceivedSpan> = []
    const metrics: Array<unknown> = []
    const server = createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}")
        if (request.url === "/v1/traces") spans.push(...spansOf(body))
        if (request.url === "/v1/metrics") metrics.push(body)
        response.writeHead(200, { "content-type": "application/json" })
        response.end("{}")
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({ url: `http://127.0.0.1:${port}`, spans, metrics, close: () => server.close() }))
    })
  }),
  (receiver) => Effect.sync(() => receiver.close())
)
