import { createFunction } from '../../shared/handler';
import { ysdkBalanceRunner } from '../../shared/runners';

export const main = createFunction('ysdkBalance', ysdkBalanceRunner);
