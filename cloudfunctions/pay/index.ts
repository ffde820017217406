import { createFunction } from '../../shared/handler';
import { payRunner } from '../../shared/runners';

export const main = createFunction('pay', payRunner);
