import { callbackError } from '../callbacks.js'
import { GuardError } from '../errors.js'

/**
 * The Standard Schema v1 contract (standardschema.dev), as much of it as
 * jwtguard uses. zod 4, valibot and arktype schemas satisfy it structurally.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>
    readonly types?: { readonly input: Input; readonly output: Output } | undefined
  }
}

type StandardResult<Output> = { readonly value: Output; readonly issues?: undefined } | { readonly issues: ReadonlyArray<StandardIssue> }

interface StandardIssue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
}

function issuePath(issue: StandardIssue | undefined): string {
  if (!issue?.path) return ''
  return issue.path.map((p) => String(typeof p === 'object' && p !== null ? p.key : p)).join('.')
}

/**
 * Validates verified claims; the failing path goes on the error's context, not
 * in its message. Issues are the token's fault (401); a schema that throws,
 * rejects or answers outside the Standard Schema contract is the server's (500).
 */
export async function validateWithSchema<C>(schema: StandardSchemaV1<unknown, C>, payload: unknown): Promise<C> {
  let refusal: GuardError
  try {
    const result: unknown = await schema['~standard'].validate(payload)
    if (typeof result !== 'object' || result === null) throw new TypeError('claimsSchema returned no result')
    const { issues } = result as { issues?: ReadonlyArray<StandardIssue> }
    if (!issues) {
      if (!('value' in result)) throw new TypeError('claimsSchema returned neither value nor issues')
      return (result as { value: C }).value
    }
    refusal = new GuardError('ERR_JWT_SCHEMA_INVALID', 'Token claims invalid', {
      reason: 'schema',
      path: issuePath(issues[0]),
      issues: issues.map((i) => ({ path: issuePath(i), message: String(i.message) })),
    })
  } catch (err) {
    throw callbackError(err, 'claimsSchema')
  }
  throw refusal
}
