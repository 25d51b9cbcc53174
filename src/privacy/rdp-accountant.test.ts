/**
 * The RDP accountant against reference values with their sources (each must agree within 1 %; most
 * agree to 1e-6): the q = 1 closed form, TensorFlow Privacy's / dp_accounting's and Opacus's test
 * values, and the fedrec privacy command end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeRdp, DEFAULT_ORDERS, epsilonFromRdp, epsilonOf, logErfc, noiseMultiplierFor, rdpSubsampledGaussian } from './rdp-accountant.js';

const bin = resolve(fileURLToPath(import.meta.url), '../../../bin/fedrec.js');

function near(actual: number, expected: number, rel: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} vs reference ${expected} (tolerance ${rel * 100} %)`);
}

test('log erfc matches tabulated erfc values, far into the tail', () => {
  // erfc values from Abramowitz & Stegun table 7.1 / high-precision evaluation
  const table: [number, number][] = [[-1, 1.8427007929497148], [0.5, 0.4795001221869535], [2, 0.004677734981047266], [3, 2.209049699858544e-5], [5, 1.5374597944280349e-12], [10, 2.088487583762545e-45]];
  for (const [x, v] of table) near(Math.exp(logErfc(x)), v, 1e-10, `erfc(${x})`);
  near(logErfc(30), -30 * 30 - 0.5 * Math.log(Math.PI) - Math.log(30) + Math.log1p(-1 / 1800 + 3 / (4 * 30 ** 4) - 15 / (8 * 30 ** 6)), 1e-12, 'log erfc(30) (asymptotic series)');
});

test('q = 1: RDP is the Gaussian closed form α/(2z²), and ε is the optimal Gaussian bound', () => {
  for (const a of [1.5, 2, 7.3, 32, 256]) for (const z of [0.5, 1, 4]) near(rdpSubsampledGaussian(1, z, a), a / (2 * z * z), 1e-15, `α ${a} z ${z}`);
  // dp_accounting rdp_privacy_accountant_test.test_compute_epsilon_delta_gaussian: z = 4.530877117 gives (1, 1e-6) with orders 1.000…99.999 step 0.001
  const fine = Array.from({ length: 99_000 }, (_, i) => 0.001 * (i + 1000)).filter((a) => a > 1);
  near(epsilonOf({ samplingRate: 1, noiseMultiplier: 4.530877117, rounds: 1, delta: 1e-6, orders: fine }).epsilon, 1, 1e-6, 'ε');
});

test('subsampled RDP values of TensorFlow Privacy / dp_accounting tests', () => {
  // tensorflow/privacy privacy/analysis/rdp_accountant_test.py, test_compute_rdp_scalar: compute_rdp(0.1, 2, 10, 5) = 0.07737
  near(computeRdp(0.1, 2, 10, [5])[0], 0.07737, 1e-4, 'q 0.1 z 2 steps 10 α 5');
  // the same file, test_compute_rdp_sequence (and dp_accounting test_compute_rdp_poisson_sampled_gaussian, rtol 1e-4)
  const orders = [1.5, 2.5, 5, 50, 100, Infinity];
  const expected = [6.5007e-4, 1.0854e-3, 2.1808e-3, 2.3846e-2, 1.6742e2, Infinity];
  computeRdp(0.01, 2.5, 50, orders).forEach((r, k) => (expected[k] === Infinity ? assert.equal(r, Infinity) : near(r, expected[k], 1e-4, `α ${orders[k]}`)));
  assert.equal(rdpSubsampledGaussian(0, 10, 20), 0); // test_compute_rdp_no_data
});

test('tight RDP → (ε, δ) conversion: dp_accounting pure-DP reference', () => {
  // dp_accounting test_compute_epsilon_delta_pure_dp: constant RDP 1.1 on orders 2..32, δ 1e-5 → ε 1.32783806176 at order 32
  const orders = Array.from({ length: 31 }, (_, i) => i + 2);
  const { epsilon, order } = epsilonFromRdp(orders, orders.map(() => 1.1), 1e-5);
  near(epsilon, 1.32783806176, 1e-9, 'ε');
  assert.equal(order, 32);
});

test('ε of a Poisson-subsampled Gaussian run: Opacus reference', () => {
  // pytorch/opacus opacus/tests/accountants_test.py test_rdp_accountant: z 1.5, q 0.04, 2250 steps, δ 1e-5 → ε 7.32911117143
  near(epsilonOf({ samplingRate: 0.04, noiseMultiplier: 1.5, rounds: 2250, delta: 1e-5 }).epsilon, 7.32911117143, 1e-6, 'ε');
});

test('inverse: the noise multiplier for a target ε matches Opacus and round-trips', () => {
  // opacus accountants_test.py test_get_noise_multiplier_rdp_epochs / _steps: ε 8, δ 1e-5, q 0.04, 2250 / 2000 steps → 1.416 / 1.3562
  // (Opacus stops its bisection within 0.01 of ε, so its values are slightly conservative)
  near(noiseMultiplierFor({ epsilon: 8, samplingRate: 0.04, rounds: 2250, delta: 1e-5 }), 1.416, 0.01, 'z (2250 steps)');
  near(noiseMultiplierFor({ epsilon: 8, samplingRate: 0.04, rounds: 2000, delta: 1e-5 }), 1.3562, 0.01, 'z (2000 steps)');
  for (const [epsilon, q, rounds] of [[1, 0.01, 100], [4, 0.1, 50], [8, 0.5, 10], [2, 1, 5]]) {
    const z = noiseMultiplierFor({ epsilon, samplingRate: q, rounds, delta: 1e-5 });
    const back = epsilonOf({ samplingRate: q, noiseMultiplier: z, rounds, delta: 1e-5 }).epsilon;
    assert.ok(back <= epsilon, `ε(z) ${back} must not exceed the target ${epsilon}`);
    near(back, epsilon, 1e-4, `round trip ε ${epsilon} q ${q} T ${rounds}`);
  }
});

test('the order grid is the standard one, and ε grows with rounds and falls with noise', () => {
  assert.equal(DEFAULT_ORDERS.length, 99 + 52 + 3);
  assert.equal(DEFAULT_ORDERS[0], 1.1);
  assert.equal(DEFAULT_ORDERS[98], 10.9);
  assert.equal(DEFAULT_ORDERS[99], 12);
  const e = (z: number, t: number) => epsilonOf({ samplingRate: 0.05, noiseMultiplier: z, rounds: t, delta: 1e-5 }).epsilon;
  assert.ok(e(1, 100) < e(1, 200));
  assert.ok(e(2, 100) < e(1, 100));
  assert.equal(e(0, 10), Infinity);
});

test('fedrec privacy prints ε (and --json one object); --epsilon gives the noise multiplier; bad flags exit 2', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [bin, 'privacy', ...args], { encoding: 'utf8' });
  const r = run(['--sampling-rate', '0.04', '--noise-multiplier', '1.5', '--rounds', '2250', '--delta', '1e-5', '--json']);
  assert.equal(r.status, 0, r.stderr);
  near(JSON.parse(r.stdout).epsilon, 7.32911117143, 1e-6, 'ε');
  const inv = run(['--sampling-rate', '0.04', '--epsilon', '8', '--rounds', '2250', '--delta', '1e-5', '--json']);
  assert.equal(inv.status, 0, inv.stderr);
  near(JSON.parse(inv.stdout).noiseMultiplier, 1.416, 0.01, 'z');
  const text = run(['--sampling-rate', '0.04', '--noise-multiplier', '1.5', '--rounds', '2250', '--delta', '1e-5']);
  assert.match(text.stdout, /ε = 7\.329/);
  const bad = run(['--sampling-rate', '1.5', '--noise-multiplier', '1', '--rounds', '10', '--delta', '1e-5']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--sampling-rate: expected a number in \(0, 1\]/);
  const both = run(['--sampling-rate', '0.1', '--rounds', '10', '--delta', '1e-5']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /exactly one of --noise-multiplier/);
});
