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
  return issue.path.map((p) => String(typeof p === 'object' ? p.key : p)).join('.')
}

/** Validates verified claims; the failing path goes on the error's context, not in its message. */
export async function validateWithSchema<C>(schema: StandardSchemaV1<unknown, C>, payload: unknown): Promise<C> {
  let result: StandardResult<C>
  try {
    result = await schema['~standard'].validate(payload)
  } catch (cause) {
    throw new GuardError('ERR_JWT_SCHEMA_INVALID', 'Token claims invalid', { reason: 'schema_threw' }, { cause })
  }
  if (result.issues) {
    const first = result.issues[0]
    throw new GuardError('ERR_JWT_SCHEMA_INVALID', 'Token claims invalid', {
      reason: 'schema',
      path: issuePath(first),
      issues: result.issues.map((i) => ({ path: issuePath(i), message: i.message })),
    })
  }
  return result.value
}
