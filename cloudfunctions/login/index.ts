/** `login` (Virtual Payment 2.0): exchanges a `wx.login` code and keeps the player's newest session_key server-side. */
import { defineFunction } from '../../shared/edge/function';
import { login } from '../../shared/virtual-payment/login';
import { loadLoginConfig } from '../../shared/virtual-payment/settings';

export const { main, manifest, readSettings, settingsProblems } = defineFunction({
  name: 'login',
  settings: loadLoginConfig,
  run: (event, { cloud, caller, settings }) => login(event, { cloud, caller, config: settings }),
});
