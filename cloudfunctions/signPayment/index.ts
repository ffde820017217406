import { createFunction } from '../../shared/handler';
import { signPaymentRunner } from '../../shared/runners';

export const main = createFunction('signPayment', signPaymentRunner);
