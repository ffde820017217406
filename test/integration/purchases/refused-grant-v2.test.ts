import { refusedGrantSuite } from './refused-grant';

refusedGrantSuite('v2');
