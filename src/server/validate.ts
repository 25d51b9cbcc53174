/**
 * Validation of a decoded client update against the model, before it may touch anything:
 *  1. tables: exactly the model's global tables, item tables as 'item', dense as 'dense';
 *  2. shape: item tables hold rows.length × cols values, dense tables rows × cols;
 *  3. index range: rows strictly ascending, each in [0, nItems);
 *  4. values: every delta finite, weight finite in [0, maxWeight], loss finite with |loss| ≤ LOSS_BOUND;
 *  5. norm: the L2 norm of all deltas within `normBound` — else rejected, or scaled down to the
 *     bound ('clip', the DP-FedAvg convention).
 * A failure throws `InvalidUpdate` whose message names the table, position and value.
 */
import type { GlobalUpdate } from '../federated/types.js';
import type { ParamInfo } from '../models/types.js';
import { clipUpdate, LOSS_BOUND } from '../federated/bounds.js';

export class InvalidUpdate extends Error {
  override name = 'InvalidUpdate';
  constructor(
    readonly reason: 'shape' | 'index' | 'not-finite' | 'weight' | 'norm' | 'loss',
    message: string,
  ) {
    super(message);
  }
}

export interface ValidationOptions {
  readonly nItems: number;
  readonly maxWeight: number;
  readonly normBound?: number;
  readonly normMode: 'reject' | 'clip';
  /** The model's local (user) tables, named as such when an update carries one. */
  readonly localTables?: readonly string[];
}

export interface ValidatedUpdate {
  readonly update: GlobalUpdate;
  readonly clipped: boolean;
  readonly norm: number;
}

export function validateUpdate(update: GlobalUpdate, info: readonly ParamInfo[], opts: ValidationOptions): ValidatedUpdate {
  const globals = info.filter((p) => p.scope === 'global');
  const { rows } = update;
  const expected = new Set(globals.map((p) => p.name));
  for (const name of [...Object.keys(update.itemTables), ...Object.keys(update.denseTables)]) {
    if (expected.has(name)) continue;
    const local = opts.localTables?.includes(name)
      ? `it is a local (user) table, which stays on the device and is never sent; `
      : '';
    throw new InvalidUpdate('shape', `unknown table '${name}': ${local}the model's global tables are ${[...expected].join(', ')}`);
  }
  if (rows.length > opts.nItems) throw new InvalidUpdate('shape', `rows has ${rows.length} ids, the model has only ${opts.nItems} items`);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    if (r < 0 || r >= opts.nItems) throw new InvalidUpdate('index', `rows[${k}] = ${r} is outside [0, ${opts.nItems})`);
    if (k > 0 && r <= rows[k - 1]) throw new InvalidUpdate('index', `rows must be strictly ascending: rows[${k - 1}] = ${rows[k - 1]}, rows[${k}] = ${r}`);
  }
  let sq = 0;
  for (const p of globals) {
    const isItem = p.index === 'item';
    const table = (isItem ? update.itemTables : update.denseTables)[p.name];
    if (!table) throw new InvalidUpdate('shape', `missing ${isItem ? 'item' : 'dense'} table '${p.name}'`);
    const want = isItem ? rows.length * p.cols : p.rows * p.cols;
    if (table.length !== want) {
      const shape = isItem ? `${rows.length} rows × ${p.cols}` : `${p.rows} × ${p.cols}`;
      throw new InvalidUpdate('shape', `table '${p.name}' has ${table.length} values, expected ${want} (${shape})`);
    }
    for (let k = 0; k < table.length; k++) sq += table[k] * table[k];
    // a NaN or ±Infinity makes the sum non-finite (so does overflow): only then look for the culprit
    if (!Number.isFinite(sq)) {
      const k = table.findIndex((v) => !Number.isFinite(v));
      if (k >= 0) throw new InvalidUpdate('not-finite', `table '${p.name}' value [${k}] is ${table[k]}: every value must be finite`);
    }
  }
  // Weight 0 is a client with nothing to train this round (e.g. a FedRecon user whose data all went
  // to reconstruction): it changes no parameter, but it is the client's answer for the round.
  if (!Number.isFinite(update.weight) || update.weight < 0 || update.weight > opts.maxWeight) {
    throw new InvalidUpdate('weight', `weight ${update.weight} must be finite, ≥ 0 and ≤ ${opts.maxWeight}`);
  }
  if (!Number.isFinite(update.loss)) throw new InvalidUpdate('not-finite', `loss ${update.loss} must be finite`);
  if (Math.abs(update.loss) > LOSS_BOUND) throw new InvalidUpdate('loss', `loss ${update.loss} is outside [-${LOSS_BOUND}, ${LOSS_BOUND}]`);
  const norm = Math.sqrt(sq);
  if (opts.normBound === undefined || norm <= opts.normBound) return { update, clipped: false, norm };
  if (opts.normMode === 'reject') {
    throw new InvalidUpdate('norm', `update L2 norm ${norm.toPrecision(6)} exceeds the bound ${opts.normBound}`);
  }
  return clipUpdate(update, opts.normBound, norm);
}
