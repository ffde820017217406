import { createFunction } from '../../shared/handler';
import { reconcileRunner } from '../../shared/runners';

export const main = createFunction('reconcile', reconcileRunner);
