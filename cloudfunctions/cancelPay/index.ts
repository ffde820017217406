import { createFunction } from '../../shared/handler';
import { cancelPayRunner } from '../../shared/runners';

export const main = createFunction('cancelPay', cancelPayRunner);
