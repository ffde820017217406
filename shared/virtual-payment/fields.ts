/** The fields of a 2.0 request: only the allowed ones, and never a price. */
import { MidasCloudError } from '../edge/errors';
import { requestFields } from '../edge/request';

export function bad(field: string, message: string): MidasCloudError {
  return new MidasCloudError('VALIDATION_FAILED', message, { field });
}

/** Checks an event's own fields against `allowed`. */
export function fieldsOf(event: unknown, allowed: readonly string[]): Record<string, unknown> {
  const rest = requestFields(event);
  for (const k of Object.keys(rest)) {
    if (!allowed.includes(k)) {
      const price = /price|amount|fen|total/i.test(k);
      throw bad(k, price ? `${k} is not accepted: prices come from the server's catalogue` : `${k} is not a field of this request`);
    }
  }
  return rest;
}

export function storeError(e: unknown): MidasCloudError {
  return new MidasCloudError('LEDGER_UNAVAILABLE', 'the cloud database is not available', { cause: e });
}
