/** `signPayment` (Virtual Payment 2.0): signs one purchase of an item or coins for the calling player and records the order. */
import { defineFunction } from '../../shared/edge/function';
import { signPayment } from '../../shared/virtual-payment/sign-payment';
import { loadSignPaymentConfig } from '../../shared/virtual-payment/settings';

export const { main, manifest, readSettings, settingsProblems } = defineFunction({
  name: 'signPayment',
  settings: loadSignPaymentConfig,
  run: (event, { cloud, caller, settings }) => signPayment(event, { cloud, caller, config: settings }),
});
