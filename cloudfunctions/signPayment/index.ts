/** `signPayment` (Virtual Payment 2.0): signs one purchase of an item or coins for the calling player and records the order. */
import { defineFunction } from '../../shared/edge/function';
import { signPayment } from '../../shared/virtual-payment/sign-payment';
import { loadV2Config } from '../../shared/virtual-payment/settings';

export const { main, manifest, readSettings } = defineFunction({
  name: 'signPayment',
  settings: loadV2Config,
  run: (event, { cloud, caller, settings }) => signPayment(event, { cloud, caller, config: settings }),
});
