import { refusedGrantSuite } from './refused-grant';

refusedGrantSuite('v1');
