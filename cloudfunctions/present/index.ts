import { createFunction } from '../../shared/handler';
import { presentRunner } from '../../shared/runners';

export const main = createFunction('present', presentRunner);
