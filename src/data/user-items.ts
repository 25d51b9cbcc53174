/**
 * Compressed per-user item rows (`UserItems`, CSR form): building them from coordinate lists,
 * reading a row, membership tests by binary search, and row lengths.
 */
import type { UserItems } from './types.js';

/**
 * Rows of `nUsers` users from coordinate lists (`users[k]`, `items[k]`, optional `values[k]`).
 * Each row is sorted ascending by item and values stay aligned. Pairs are expected to be unique.
 * Runs in O(nnz + nUsers + maxItem) with two stable counting sorts (by item, then by user).
 */
export function buildUserItems(
  nUsers: number,
  users: Int32Array,
  items: Int32Array,
  values?: Float32Array | null,
): UserItems {
  const nnz = users.length;
  if (items.length !== nnz) throw new RangeError(`buildUserItems: ${nnz} users but ${items.length} items`);
  if (values && values.length !== nnz) throw new RangeError(`buildUserItems: ${nnz} pairs but ${values.length} values`);
  let maxItem = -1;
  for (let k = 0; k < nnz; k++) {
    const u = users[k];
    const i = items[k];
    if (u < 0 || u >= nUsers) throw new RangeError(`buildUserItems: user ${u} outside [0, ${nUsers})`);
    if (i < 0) throw new RangeError(`buildUserItems: negative item ${i}`);
    if (i > maxItem) maxItem = i;
  }
  const byItem = stableOrder(items, maxItem + 1, null);
  const byUserThenItem = stableOrder(users, nUsers, byItem);

  const indptr = new Int32Array(nUsers + 1);
  for (let k = 0; k < nnz; k++) indptr[users[k] + 1]++;
  for (let u = 0; u < nUsers; u++) indptr[u + 1] += indptr[u];
  const indices = new Int32Array(nnz);
  const outValues = values ? new Float32Array(nnz) : null;
  for (let j = 0; j < nnz; j++) {
    const k = byUserThenItem[j];
    indices[j] = items[k];
    if (outValues && values) outValues[j] = values[k];
  }
  return { indptr, indices, values: outValues };
}

/** Positions 0..n-1 (or the given `order`) stably reordered by `keys[position]` in [0, nKeys). */
function stableOrder(keys: Int32Array, nKeys: number, order: Int32Array | null): Int32Array {
  const n = keys.length;
  const start = new Int32Array(nKeys + 1);
  for (let k = 0; k < n; k++) start[keys[k] + 1]++;
  for (let key = 0; key < nKeys; key++) start[key + 1] += start[key];
  const out = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const k = order ? order[j] : j;
    out[start[keys[k]]++] = k;
  }
  return out;
}

/** The items of user `u` (a view into `ui.indices`, sorted ascending). */
export function rowOf(ui: UserItems, u: number): Int32Array {
  return ui.indices.subarray(ui.indptr[u], ui.indptr[u + 1]);
}

/** Whether user `u`'s row holds `item` (binary search). */
export function hasItem(ui: UserItems, u: number, item: number): boolean {
  return sortedRangeHas(ui.indices, ui.indptr[u], ui.indptr[u + 1], item);
}

/** Whether the ascending slice `sorted[lo..hi)` holds `value`. */
export function sortedRangeHas(sorted: Int32Array, lo: number, hi: number, value: number): boolean {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid];
    if (v === value) return true;
    if (v < value) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

/** Row length per user: [nUsers]. */
export function countPerUser(ui: UserItems): Int32Array {
  const nUsers = ui.indptr.length - 1;
  const counts = new Int32Array(nUsers);
  for (let u = 0; u < nUsers; u++) counts[u] = ui.indptr[u + 1] - ui.indptr[u];
  return counts;
}
