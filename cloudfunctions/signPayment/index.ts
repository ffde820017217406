import { createFunction } from '../../shared/handler';

export const main = createFunction('signPayment');
