/**
 * The bank balances projection as a file for `thalo-runtime --projection`: the runtime imports it
 * and runs its default export. The read model goes to `BANK_BALANCES_FILE` (default
 * `./bank-balances.json`, next to where the runtime runs).
 *
 *   npx thalo-runtime --projection dist/examples/bank-balances-runtime.js
 *   npx thalo execute bank_account alice OpenAccount '{"initial_balance":100}'
 *   cat bank-balances.json          # {"position":1,"balances":{"alice":100}}
 *
 * Rebuild it from scratch: delete the file, then `npx thalo projection reset bank-balances`.
 */
import { balancesProjection } from './bank-balances.js';

export default balancesProjection(process.env.BANK_BALANCES_FILE ?? 'bank-balances.json');
