/**
 * Command-line flags derived from an action's input Schema: one flag per top-level field, typed by the
 * field's *encoded* side (what a job carries), so the text given on the command line goes through the
 * action's own Schema afterwards (coercion, defaults, refinements) exactly as an enqueued job would.
 *
 * - strings, numbers and booleans become typed flags; literals and enums become choices;
 * - a union that accepts a string (e.g. `Union([Finite, FiniteFromString])`) takes the text as is;
 * - arrays, objects and anything else take a JSON value;
 * - optional fields and fields with a decoding default are optional flags, the rest are required;
 * - help text comes from the field's `description` annotation.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as SchemaAST from "effect/SchemaAST"
import * as Flag from "effect/cli/Flag"
import type * as Action from "../../domain/Action.ts"

/** The parsed value of one derived flag. */
type Parsed = Option.Option<unknown>

/**
 * The flags of one action, and how to turn their parsed values back into the action's (encoded) inputs.
 *
 * @category models
 */
export interface InputFlags {
  readonly flags: Record<string, Flag.Flag<Parsed>>
  readonly toInputs: (parsed: Readonly<Record<string, Parsed>>) => Record<string, unknown>
}

/** `maxWidth` -> `max-width`. */
export const kebab = (name: string): string =>
  name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").replace(/[_\s]+/g, "-").toLowerCase()

/** The members of a union, nested unions flattened, `undefined` (from optional fields) dropped. */
const members = (ast: SchemaAST.AST): ReadonlyArray<SchemaAST.AST> =>
  SchemaAST.isUnion(ast) ? ast.types.flatMap(members) : SchemaAST.isUndefined(ast) ? [] : [ast]

type Kind =
  | { readonly _tag: "string" }
  | { readonly _tag: "number" }
  | { readonly _tag: "boolean" }
  | { readonly _tag: "choice"; readonly choices: ReadonlyArray<readonly [string, unknown]> }
  | { readonly _tag: "json" }

const literalChoices = (types: ReadonlyArray<SchemaAST.AST>): ReadonlyArray<readonly [string, unknown]> | undefined => {
  const choices: Array<readonly [string, unknown]> = []
  for (const type of types) {
    if (SchemaAST.isLiteral(type)) choices.push([String(type.literal), type.literal])
    else if (SchemaAST.isEnum(type)) for (const [, value] of type.enums) choices.push([String(value), value])
    else return undefined
  }
  return choices.length > 0 ? choices : undefined
}

const kindOf = (encoded: SchemaAST.AST): Kind => {
  const types = members(encoded)
  const choices = literalChoices(types)
  if (choices) return { _tag: "choice", choices }
  if (types.some(SchemaAST.isString)) return { _tag: "string" }
  if (types.length > 0 && types.every((t) => SchemaAST.isNumber(t) || (SchemaAST.isLiteral(t) && typeof t.literal === "number"))) {
    return { _tag: "number" }
  }
  if (types.length > 0 && types.every((t) => SchemaAST.isBoolean(t) || (SchemaAST.isLiteral(t) && typeof t.literal === "boolean"))) {
    return { _tag: "boolean" }
  }
  return { _tag: "json" }
}

const parseJson = (text: string): unknown => JSON.parse(text)

const baseFlag = (name: string, kind: Kind, metavar: string): Flag.Flag<unknown> => {
  switch (kind._tag) {
    case "string":
      return metavar === "string" ? Flag.String(name) : Flag.String(name).pipe(Flag.withMetavar(metavar))
    case "number":
      return Flag.Finite(name)
    case "boolean":
      return Flag.Boolean(name)
    case "choice":
      return Flag.ChoiceWithValue(name, kind.choices)
    case "json":
      return Flag.String(name).pipe(
        Flag.withMetavar("json"),
        Flag.mapTryCatch(parseJson, (error) => `not valid JSON (${error instanceof Error ? error.message : String(error)})`)
      )
  }
}

/** No flags (commands that take their inputs from elsewhere). @category constructors */
export const none: InputFlags = { flags: {}, toInputs: () => ({}) }

/**
 * Derives the flags of an action. A field whose flag name is in `reserved` (the command's own flags, such
 * as `--queue`) is renamed `--input-NAME`.
 *
 * @category constructors
 */
export const fromAction = (action: Action.Any, reserved: ReadonlySet<string>): InputFlags => {
  const ast = action.inputs.ast
  // a Struct is Objects itself; a Schema.Class is a Declaration whose encoded side is Objects
  const encoded = SchemaAST.toEncoded(ast)
  const fields = SchemaAST.isObjects(ast) ? ast.propertySignatures : SchemaAST.isObjects(encoded) ? encoded.propertySignatures : []
  const flags: Record<string, Flag.Flag<Parsed>> = {}
  const names = new Map<string, string>()
  const switches = new Set<string>()
  for (const field of fields) {
    if (typeof field.name !== "string") continue
    const fieldEncoded = SchemaAST.toEncoded(field.type)
    const kind = kindOf(fieldEncoded)
    const optional = SchemaAST.isOptional(fieldEncoded)
    let flagName = kebab(field.name)
    if (reserved.has(flagName) || names.has(flagName)) flagName = `input-${flagName}`
    const notes = [
      // `Schema.optional(X.annotate(...))` keeps the description on X, inside the union with undefined
      SchemaAST.resolveDescription(field.type) ?? members(field.type).map(SchemaAST.resolveDescription).find((d) => d !== undefined),
      kind._tag === "json" ? "(JSON)" : undefined,
      // a required boolean reads as false when absent, which is what a CLI switch means
      optional || kind._tag === "boolean" ? undefined : "(required)"
    ].filter((note): note is string => note !== undefined && note.length > 0)
    // text decoded to a number (e.g. `FiniteFromString`) still reads as a number in help
    const decodedTo = members(SchemaAST.toType(field.type))
    const metavar = decodedTo.length > 0 && decodedTo.every(SchemaAST.isNumber) ? "number" : "string"
    let flag = baseFlag(flagName, kind, metavar)
    if (notes.length > 0) flag = Flag.withDescription(flag, notes.join(" "))
    flags[field.name] = optional || kind._tag === "boolean" ? Flag.optional(flag) : Flag.map(flag, Option.some)
    if (kind._tag === "boolean" && !optional) switches.add(field.name)
    names.set(flagName, field.name)
  }
  return {
    flags,
    toInputs: (parsed) => {
      const inputs: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(parsed)) {
        if (Option.isSome(value)) inputs[key] = value.value
        else if (switches.has(key)) inputs[key] = false
      }
      return inputs
    }
  }
}
