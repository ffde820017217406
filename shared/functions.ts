/**
 * The deployable functions and what each one's config.json grants. Permissions come from the
 * operations table: a function gets exactly the openapi names it calls, production and sandbox.
 */
import { OPERATION_NAMES, openapiPermissions, type OperationName } from './operations';

export interface FunctionManifest {
  /** config.json `permissions.openapi` */
  openapi: string[];
}

export const FUNCTIONS: Readonly<Record<string, FunctionManifest>> = Object.fromEntries(
  OPERATION_NAMES.map((op: OperationName) => [op, { openapi: openapiPermissions(op) }]),
);

/** The config.json WeChat devtools reads on upload. */
export function configJson(name: string): { permissions: { openapi: string[] } } {
  const m = FUNCTIONS[name];
  if (!m) throw new Error(`no manifest for function ${name}`);
  return { permissions: { openapi: [...m.openapi] } };
}
