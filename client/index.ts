/**
 * The mini-game package: `createMidasClient` (one call to buy an item or coins), `createLocalWx`
 * (a `wx` that reaches the local cloud) and every request and answer type of the functions.
 */
export { MidasClientError, createMidasClient } from './midas-client';
export type { Balance, ClientSideErrorCode, MidasClient, MidasClientErrorCode, MidasClientOptions, MidasSignedFields, MidasWx, MyOrders } from './midas-client';
export { createLocalWx } from './local-wx';
export type { LocalWxOptions } from './local-wx';
export type * from '../shared/contract/answers';
