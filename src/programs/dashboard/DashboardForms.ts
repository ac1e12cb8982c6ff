/**
 * Enqueue forms generated from an action's input Schema: one field per top-level property, typed by the
 * property's *encoded* side (what a job carries), as the command line derives its flags. The form only
 * gathers values; the action's own Schema validates them on the server before anything is written, so the
 * page shows exactly the message `enqueue` would give (`Expected a finite number at ["width"]`).
 *
 * - strings are text inputs, numbers text inputs that send a number when the text is one (else the text, for
 *   the Schema to reject), booleans checkboxes, literals and enums a choice, anything else JSON;
 * - optional fields and fields with a decoding default may be left empty;
 * - the help text is the field's `description` annotation.
 *
 * @since 0.2.0
 */
import * as SchemaAST from "effect/SchemaAST"
import type * as Action from "../../domain/Action.ts"
import type { FormField } from "./DashboardApi.ts"

/** The members of a union, nested unions flattened, `undefined` (from optional fields) dropped. */
const members = (ast: SchemaAST.AST): ReadonlyArray<SchemaAST.AST> =>
  SchemaAST.isUnion(ast) ? ast.types.flatMap(members) : SchemaAST.isUndefined(ast) ? [] : [ast]

const literalChoices = (types: ReadonlyArray<SchemaAST.AST>): FormField["choices"] | undefined => {
  const choices: Array<{ readonly label: string; readonly value: unknown }> = []
  for (const type of types) {
    if (SchemaAST.isLiteral(type)) choices.push({ label: String(type.literal), value: type.literal })
    else if (SchemaAST.isEnum(type)) for (const [, value] of type.enums) choices.push({ label: String(value), value })
    else return undefined
  }
  return choices.length > 0 ? choices : undefined
}

const kindOf = (encoded: SchemaAST.AST): Pick<FormField, "kind" | "choices"> => {
  const types = members(encoded)
  const choices = literalChoices(types)
  if (choices) return { kind: "choice", choices }
  if (types.some(SchemaAST.isString)) return { kind: "string", choices: [] }
  if (types.length > 0 && types.every((t) => SchemaAST.isNumber(t) || (SchemaAST.isLiteral(t) && typeof t.literal === "number"))) {
    return { kind: "number", choices: [] }
  }
  if (types.length > 0 && types.every((t) => SchemaAST.isBoolean(t) || (SchemaAST.isLiteral(t) && typeof t.literal === "boolean"))) {
    return { kind: "boolean", choices: [] }
  }
  return { kind: "json", choices: [] }
}

/**
 * The form of an action: one field per top-level property of its inputs. An action whose inputs are not a
 * struct gets one JSON field, named `""`, for the whole value.
 *
 * @category constructors
 */
export const fieldsOf = (action: Action.Any): ReadonlyArray<FormField> => {
  const ast = action.inputs.ast
  // a Struct is Objects itself; a Schema.Class is a Declaration whose encoded side is Objects
  const encoded = SchemaAST.toEncoded(ast)
  const objects = SchemaAST.isObjects(ast) ? ast : SchemaAST.isObjects(encoded) ? encoded : undefined
  if (objects === undefined) return [{ name: "", kind: "json", required: true, description: "The inputs, as JSON", choices: [] }]
  return objects.propertySignatures.flatMap((field): ReadonlyArray<FormField> => {
    if (typeof field.name !== "string") return []
    const fieldEncoded = SchemaAST.toEncoded(field.type)
    // `Schema.optional(X.annotate(...))` keeps the description on X, inside the union with undefined
    const description = SchemaAST.resolveDescription(field.type) ??
      members(field.type).map(SchemaAST.resolveDescription).find((d) => d !== undefined)
    return [{
      name: field.name,
      ...kindOf(fieldEncoded),
      required: !SchemaAST.isOptional(fieldEncoded),
      description: description === undefined || description === "" ? null : description
    }]
  })
}

/**
 * A decoded value as JSON can carry it (bigints as strings, Maps and Sets as arrays, cycles cut), for showing
 * what an action's Schema makes of a job's inputs.
 *
 * @category encoding
 */
export const toJsonValue = (value: unknown): unknown => {
  const seen = new WeakSet<object>()
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString()
      if (v instanceof Map) return [...v.entries()]
      if (v instanceof Set) return [...v.values()]
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return "[circular]"
        seen.add(v)
      }
      return v
    })
    return text === undefined ? null : JSON.parse(text)
  } catch {
    return String(value)
  }
}
