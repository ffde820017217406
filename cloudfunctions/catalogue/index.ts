import { createFunction } from '../../shared/handler';
import { catalogueRunner } from '../../shared/runners';

export const main = createFunction('catalogue', catalogueRunner);
