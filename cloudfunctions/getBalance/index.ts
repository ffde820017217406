import { createFunction } from '../../shared/handler';
import { getBalanceRunner } from '../../shared/runners';

export const main = createFunction('getBalance', getBalanceRunner);
