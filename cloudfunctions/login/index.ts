import { createFunction } from '../../shared/handler';
import { loginRunner } from '../../shared/runners';

export const main = createFunction('login', loginRunner);
