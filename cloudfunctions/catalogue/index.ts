/** `catalogue` (Virtual Payment 2.0): what the game's shop shows; prices come from the server's catalogue only. */
import { defineFunction } from '../../shared/edge/function';
import { describeCatalogue } from '../../shared/virtual-payment/catalogue';

export const { main, manifest, readSettings, settingsProblems } = defineFunction({
  name: 'catalogue',
  settings: () => undefined,
  run: async () => describeCatalogue(),
});
