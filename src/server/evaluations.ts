/**
 * Validation metrics reported by the operator's evaluation process (the coordinator never sees a
 * client's data, so it evaluates nothing itself): `POST /dashboard/evaluation` with
 * `{ "round": 3, "metrics": { "HR@10": 0.41, "NDCG@10": 0.21 } }`, round = the model version
 * evaluated. Kept in the store's meta table (the latest report per round, the most recent
 * MAX_ROUNDS rounds), so a restarted coordinator still shows them.
 */
import { z } from 'zod';
import { HttpError } from './errors.js';
import type { Store } from './types.js';

export const EVALUATIONS_META = 'operator-evaluations';
const MAX_ROUNDS = 2000;

export interface Evaluation {
  readonly round: number;
  readonly metrics: Readonly<Record<string, number>>;
  /** When it was reported (ms since the epoch). */
  readonly at: number;
}

export const evaluationSchema = z.strictObject({
  round: z.number().int().min(0),
  metrics: z
    .record(z.string().min(1).max(64), z.number().finite())
    .refine((m) => Object.keys(m).length >= 1 && Object.keys(m).length <= 50, 'expected 1 to 50 metrics, e.g. { "HR@10": 0.41 }'),
});

/** Kept in the store only (read at every use): replicas sharing a database show the same reports. */
export class Evaluations {
  constructor(private readonly store: Pick<Store, 'getMeta' | 'setMeta'>) {}

  private async load(): Promise<Map<number, Evaluation>> {
    const byRound = new Map<number, Evaluation>();
    const saved = await this.store.getMeta(EVALUATIONS_META);
    if (!saved) return byRound;
    try {
      for (const e of JSON.parse(saved) as Evaluation[]) byRound.set(e.round, e);
    } catch {
      // a damaged value is dropped: the next report rewrites it
    }
    return byRound;
  }

  /** Check and keep one report; `version` is the coordinator's model version (completed rounds). */
  async report(body: unknown, version: number, now = Date.now()): Promise<Evaluation> {
    const parsed = evaluationSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      throw new HttpError(400, 'bad-evaluation', `evaluation report: ${where}${issue.message}; expected { "round": N, "metrics": { "HR@10": 0.41, … } }`);
    }
    const { round, metrics } = parsed.data;
    if (round > version) throw new HttpError(409, 'round-not-done', `evaluation report for round ${round}, but the model is at version ${version}: evaluate a model the coordinator has published`);
    const entry: Evaluation = { round, metrics, at: now };
    const byRound = await this.load();
    byRound.set(round, entry);
    const all = sorted(byRound);
    await this.store.setMeta(EVALUATIONS_META, JSON.stringify(all.slice(Math.max(0, all.length - MAX_ROUNDS))));
    return entry;
  }

  /** Reports ordered by round. */
  async list(): Promise<Evaluation[]> {
    return sorted(await this.load());
  }
}

function sorted(byRound: Map<number, Evaluation>): Evaluation[] {
  return [...byRound.values()].sort((a, b) => a.round - b.round);
}
