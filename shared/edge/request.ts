/** The part of an event that is the caller's own input. */
import { MidasCloudError } from './errors';

/**
 * The caller's own fields of an event: it must be an object (null or none is empty), and the
 * `userInfo` the platform adds to every client call ({appId, openId}) is not input: it is dropped.
 */
export function requestFields(event: unknown): Record<string, unknown> {
  if (event === null || event === undefined) return {};
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new MidasCloudError('VALIDATION_FAILED', 'the request must be an object', { field: '(event)' });
  }
  const { userInfo: _platform, ...rest } = event as Record<string, unknown>;
  return rest;
}
