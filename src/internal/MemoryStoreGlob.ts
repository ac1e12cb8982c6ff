/**
 * Glob patterns as KEYS and SCAN MATCH read them: a port of Redis's `stringmatchlen`, quirks included, and a
 * small cache of compiled matchers that answers the common shapes (`*`, a literal, `prefix*`) without running
 * the matcher. It is its own module because the matching rules are Redis's, not the keyspace's: the keyspace
 * only asks which of its keys a pattern matches.
 *
 * @since 0.2.0
 */

const STAR = 42
const QUESTION = 63
const OPEN = 91
const CLOSE = 93
const BACKSLASH = 92
const CARET = 94
const DASH = 45

/**
 * A port of Redis's `stringmatchlen` (with its quirks: an unclosed `[` runs to the end, `[a-]` is a range up to
 * `]`, reversed ranges are swapped), over UTF-16 code units where Redis matches bytes. `skip` is Redis's
 * `skipLongerMatches`, which stops retrying earlier stars once a later star failed everywhere.
 */
const globMatch = (pattern: string, p: number, text: string, s: number, skip: { longer: boolean }): boolean => {
  const pl = pattern.length
  const sl = text.length
  while (p < pl && s < sl) {
    const c = pattern.charCodeAt(p)
    if (c === STAR) {
      while (p + 1 < pl && pattern.charCodeAt(p + 1) === STAR) p++
      if (p + 1 === pl) return true
      for (; s < sl; s++) {
        if (globMatch(pattern, p + 1, text, s, skip)) return true
        if (skip.longer) return false
      }
      skip.longer = true
      return false
    } else if (c === QUESTION) {
      s++
    } else if (c === OPEN) {
      p++
      const not = p < pl && pattern.charCodeAt(p) === CARET
      if (not) p++
      const t = text.charCodeAt(s)
      let match = false
      for (;;) {
        if (p < pl && pattern.charCodeAt(p) === BACKSLASH && pl - p >= 2) {
          p++
          if (pattern.charCodeAt(p) === t) match = true
        } else if (p < pl && pattern.charCodeAt(p) === CLOSE) {
          break
        } else if (p >= pl) {
          p--
          break
        } else if (pl - p >= 3 && pattern.charCodeAt(p + 1) === DASH) {
          const a = pattern.charCodeAt(p)
          const b = pattern.charCodeAt(p + 2)
          if (t >= Math.min(a, b) && t <= Math.max(a, b)) match = true
          p += 2
        } else if (pattern.charCodeAt(p) === t) {
          match = true
        }
        p++
      }
      if (not) match = !match
      if (!match) return false
      s++
    } else {
      if (c === BACKSLASH && pl - p >= 2) p++
      if (pattern.charCodeAt(p) !== text.charCodeAt(s)) return false
      s++
    }
    p++
    if (s === sl) {
      while (p < pl && pattern.charCodeAt(p) === STAR) p++
      break
    }
  }
  return p === pl && s === sl
}

const GLOB_SPECIAL = /[*?[\\]/

/** A matcher for `pattern`, with the common shapes (`*`, a literal, `literal*`) answered without the matcher. */
const compileGlob = (pattern: string): (key: string) => boolean => {
  if (pattern === "*") return () => true
  const special = pattern.search(GLOB_SPECIAL)
  if (special === -1) return (key) => key === pattern
  if (special === pattern.length - 1 && pattern.charCodeAt(special) === STAR) {
    const prefix = pattern.slice(0, -1)
    return (key) => key.startsWith(prefix)
  }
  return (key) => globMatch(pattern, 0, key, 0, { longer: false })
}

/** Compiled patterns, shared by every store (a pattern means the same everywhere); cleared when it grows large. */
const globs = new Map<string, (key: string) => boolean>()

/** The matcher of `pattern`, compiled once and cached. */
export const globFor = (pattern: string): (key: string) => boolean => {
  let matcher = globs.get(pattern)
  if (matcher === undefined) {
    if (globs.size >= 256) globs.clear()
    matcher = compileGlob(pattern)
    globs.set(pattern, matcher)
  }
  return matcher
}
