/**
 * What keeps the dashboard safe: who may use it, and which requests may change anything. One router
 * middleware runs before every page and API route:
 *
 * 1. **Host** (when `allowedHosts` is set, as `web` sets it on loopback): a request naming another host is
 *    refused, so a page on another site cannot reach a loopback dashboard by DNS rebinding.
 * 2. **Authentication** (with an `auth` option): a bearer token (`Authorization: Bearer`, or the session cookie
 *    set by the login form or by opening any page with `?token=`), or HTTP basic auth. Every secret is compared
 *    in constant time (SHA-256 digests through `timingSafeEqual`). Without credentials the API answers 401,
 *    a page sends the browser to the login form (token) or asks for basic credentials.
 * 3. **Changes**: every state-changing request is a POST; in read-only mode every POST is refused (403). A POST
 *    must carry the dashboard's CSRF token in `x-csrf-token` (the pages send it; scripts read it from
 *    `GET /api/session`), unless it authenticates with `Authorization: Bearer` (which browsers never send
 *    on their own); a cross-site POST (`Sec-Fetch-Site: cross-site`, or an `Origin` of another host) is refused.
 *
 * Responses also carry `Content-Security-Policy` (scripts and styles from the dashboard only), no framing,
 * `no-store` and `nosniff`.
 *
 * @since 0.2.0
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as NetAddress from "effect/net/NetAddress"

/**
 * Who may use the dashboard: a bearer token, or a username and password (HTTP basic auth).
 *
 * @category models
 */
export type Auth =
  | { readonly token: string | Redacted.Redacted<string> }
  | { readonly basic: { readonly username: string; readonly password: string | Redacted.Redacted<string> } }

/** The kind of authentication in force. @category models */
export type AuthKind = "none" | "token" | "basic"

/** The session cookie's name. */
export const cookieName = "effect-resque-dashboard"

const secret = (value: string | Redacted.Redacted<string>): string => (typeof value === "string" ? value : Redacted.value(value))

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

/**
 * Compares two secrets in constant time: their SHA-256 digests (equal length whatever the inputs) through
 * `timingSafeEqual`, so the time taken says nothing about where they differ or how long the secret is.
 *
 * @category security
 */
export const constantTimeEqual = (given: string, expected: string): boolean => timingSafeEqual(digest(given), digest(expected))

/** What the guard checks a request against. */
export interface GuardOptions {
  readonly auth?: Auth | undefined
  readonly readOnly: boolean
  /** `Host` header values accepted (case-insensitive, with the port); undefined: any. */
  readonly allowedHosts?: ReadonlyArray<string> | undefined
  /** The path the dashboard is mounted at ("" at the root): the cookie's path and the login redirect. */
  readonly prefix: string
}

const isApi = (url: string) => url.startsWith("/api/") || url === "/api"

const pathOf = (url: string) => {
  const q = url.indexOf("?")
  return q === -1 ? url : url.slice(0, q)
}

/** A refusal: JSON `{ _tag, message }` for the API, a short page otherwise. */
const refuse = (url: string, status: 401 | 403, message: string, headers: Record<string, string> = {}) =>
  isApi(url)
    ? HttpServerResponse.jsonUnsafe({ _tag: status === 401 ? "Unauthorized" : "Forbidden", message }, { status, headers })
    : HttpServerResponse.text(
      `<!doctype html><meta charset="utf-8"><title>${status}</title><p>${status}: ${message.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)}</p>`,
      { status, headers, contentType: "text/html; charset=utf-8" }
    )

const securityHeaders = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store"
}

/** The `Authorization` header's credentials of a scheme, if present. */
const credentials = (request: HttpServerRequest.HttpServerRequest, scheme: "bearer" | "basic"): string | undefined => {
  const header = request.headers["authorization"]
  if (typeof header !== "string") return undefined
  const space = header.indexOf(" ")
  return space > 0 && header.slice(0, space).toLowerCase() === scheme ? header.slice(space + 1).trim() : undefined
}

/** The host of an `Origin` header (`scheme://host:port`), lower-cased; undefined if unreadable. */
const originHost = (origin: string): string | undefined => {
  try {
    return new URL(origin).host.toLowerCase()
  } catch {
    return undefined
  }
}

/**
 * Builds the guard.
 *
 * @category constructors
 */
export const make = (options: GuardOptions) => {
  const csrfToken = randomBytes(24).toString("base64url")
  const auth = options.auth
  const kind: AuthKind = auth === undefined ? "none" : "token" in auth ? "token" : "basic"
  const token = auth !== undefined && "token" in auth ? secret(auth.token) : undefined
  const basic = auth !== undefined && "basic" in auth ? { username: auth.basic.username, password: secret(auth.basic.password) } : undefined
  const session = token === undefined ? undefined : createHmac("sha256", token).update("effect-resque dashboard session").digest("base64url")
  const allowed = options.allowedHosts?.map((h) => h.toLowerCase())

  const sessionFor = (given: string) => (token !== undefined && session !== undefined && constantTimeEqual(given, token) ? session : undefined)

  /** How the request authenticates: `bearer` (an `Authorization: Bearer` header), `other`, or not at all. */
  const authenticate = (request: HttpServerRequest.HttpServerRequest): "bearer" | "other" | undefined => {
    if (kind === "none") return "other"
    if (token !== undefined && session !== undefined) {
      const bearer = credentials(request, "bearer")
      if (bearer !== undefined) return constantTimeEqual(bearer, token) ? "bearer" : undefined
      const cookie = request.cookies[cookieName]
      return cookie !== undefined && constantTimeEqual(cookie, session) ? "other" : undefined
    }
    if (basic !== undefined) {
      const given = credentials(request, "basic")
      if (given === undefined) return undefined
      const decoded = Buffer.from(given, "base64").toString("utf8")
      const colon = decoded.indexOf(":")
      if (colon < 0) return undefined
      // both compared, always: no shortcut that tells a wrong username from a wrong password
      const user = constantTimeEqual(decoded.slice(0, colon), basic.username)
      const pass = constantTimeEqual(decoded.slice(colon + 1), basic.password)
      return user && pass ? "other" : undefined
    }
    return undefined
  }

  /** `?token=` on a page: a valid one sets the session cookie and drops it from the address. */
  const tokenInUrl = (request: HttpServerRequest.HttpServerRequest) => {
    if (token === undefined || request.method !== "GET" || isApi(request.url)) return undefined
    const url = new URL(request.url, "http://dashboard")
    const given = url.searchParams.get("token")
    if (given === null) return undefined
    const value = sessionFor(given)
    if (value === undefined) return undefined
    url.searchParams.delete("token")
    const rest = url.searchParams.size > 0 ? `?${url.searchParams}` : ""
    return HttpServerResponse.redirect(`${options.prefix}${url.pathname}${rest}`, { status: 303, headers: { "set-cookie": sessionCookie(options.prefix, value) } })
  }

  const check = (request: HttpServerRequest.HttpServerRequest): HttpServerResponse.HttpServerResponse | undefined => {
    const url = request.url
    const host = typeof request.headers["host"] === "string" ? request.headers["host"].toLowerCase() : ""
    if (allowed !== undefined && !allowed.includes(host)) return refuse(url, 403, `host ${host || "(none)"} is not allowed`)
    const path = pathOf(url)
    // the login form and its stylesheet are open; logging in or out changes nothing but the caller's cookie
    const isLogin = path === "/login" || path === "/logout" || path === "/assets/dashboard.css"
    const how = authenticate(request)
    if (how === undefined && !isLogin) {
      const fromUrl = tokenInUrl(request)
      if (fromUrl !== undefined) return fromUrl
      if (kind === "basic") {
        return refuse(url, 401, "credentials required", { "www-authenticate": `Basic realm="effect-resque dashboard", charset="UTF-8"` })
      }
      if (isApi(url) || request.method !== "GET") return refuse(url, 401, "a valid token is required (Authorization: Bearer)")
      return HttpServerResponse.redirect(`${options.prefix}/login?next=${encodeURIComponent(url)}`, { status: 303 })
    }
    if (request.method === "GET" || request.method === "HEAD") return undefined
    const site = request.headers["sec-fetch-site"]
    const origin = request.headers["origin"]
    // an opaque origin ("null": a sandboxed frame, a file) is someone else's page as well
    if (site === "cross-site" || (typeof origin === "string" && originHost(origin) !== host)) {
      return refuse(url, 403, "cross-site request refused")
    }
    if (isLogin) return undefined
    if (options.readOnly) return refuse(url, 403, "the dashboard is read-only")
    if (how === "bearer") return undefined
    const given = request.headers["x-csrf-token"]
    if (typeof given !== "string" || !constantTimeEqual(given, csrfToken)) {
      return refuse(url, 403, "missing or wrong CSRF token (send x-csrf-token from GET /api/session)")
    }
    return undefined
  }

  const middleware = HttpRouter.middleware((effect) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const refused = check(request)
      const response = refused ?? (yield* effect)
      return HttpServerResponse.setHeaders(response, securityHeaders)
    })
  )

  return { kind, csrfToken, readOnly: options.readOnly, sessionFor, middleware }
}

/**
 * The guard of one dashboard: its CSRF token, the session value of a valid token (what the login form sets),
 * and the middleware to provide to its routes.
 *
 * @category models
 */
export type Guard = ReturnType<typeof make>

/** The session cookie header for a value, as the login form sets it. */
export const sessionCookie = (prefix: string, value: string) =>
  `${cookieName}=${value}; Path=${prefix === "" ? "/" : prefix}; HttpOnly; SameSite=Strict`

/**
 * Whether an address is one only this machine can reach: a loopback IP, or a Unix socket.
 *
 * @category security
 */
export const isLocal = (address: NetAddress.SocketAddress): boolean =>
  NetAddress.isUnixPathAddress(address) || (NetAddress.isInetAddress(address) && NetAddress.isLoopback(address.address))

/**
 * The `Host` values a loopback dashboard on `port` accepts.
 *
 * @category security
 */
export const loopbackHosts = (port: number): ReadonlyArray<string> => [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]
