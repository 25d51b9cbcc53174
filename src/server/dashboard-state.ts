/**
 * What the operator dashboard shows, as the JSON it polls (`GET /dashboard/state`): the model
 * version, the round in progress (clients selected / answered / pending / late), updates accepted
 * and refused by reason (this process's counters, from the Prometheus metrics), the closed rounds
 * (clients, mean training loss) and the operator's evaluation reports.
 */
import type { Coordinator } from './coordinator.js';
import type { Evaluation } from './evaluations.js';
import type { Metrics } from './metrics.js';
import type { ClosedRound, Store } from './types.js';

export interface OpenRoundState {
  readonly round: number;
  readonly openedAt: number;
  /** The round's deadline as configured (opened + roundDeadlineSeconds). */
  readonly deadlineAt: number;
  /** The deadline now: later than `deadlineAt` when it passed without a quorum. */
  readonly extendedTo: number | null;
  /** Clients chosen for the round; `everyone` when every registered client may take part. */
  readonly selected: number;
  readonly everyone: boolean;
  readonly answered: number;
  readonly pending: number;
  /** Pending clients past the configured deadline (the round waits for a quorum). */
  readonly late: number;
  readonly quorum: number;
}

export interface DashboardState {
  readonly now: number;
  readonly model: { readonly version: number; readonly totalRounds: number; readonly done: boolean };
  readonly registeredClients: number;
  readonly round: OpenRoundState | null;
  readonly updates: {
    readonly accepted: number;
    readonly clipped: number;
    /** Refusals by reason (unauthorized, malformed, too-large, round-closed, not-selected, duplicate, shape, index, not-finite, weight, norm). */
    readonly refused: Readonly<Record<string, number>>;
    readonly bytesReceived: number;
    readonly bytesSent: number;
  };
  readonly history: readonly ClosedRound[];
  readonly evaluations: readonly Evaluation[];
}

export interface DashboardSources {
  readonly coordinator: Coordinator;
  readonly metrics: Metrics;
  readonly store: Store;
  readonly evaluations: { list(): Promise<Evaluation[]> };
}

async function counter(c: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await c.get()).values.reduce((s, v) => s + v.value, 0);
}

export async function dashboardState({ coordinator, metrics, store, evaluations }: DashboardSources, now = Date.now()): Promise<DashboardState> {
  const status = coordinator.status();
  const { roundDeadlineSeconds, minClients } = coordinator.config.coordinator;
  const open = status.openRound === null ? null : await store.openRound();
  let round: OpenRoundState | null = null;
  if (open) {
    const everyone = open.selected === null;
    const selected = everyone ? status.registeredClients : (open.selected as readonly number[]).length;
    const answered = status.updatesInRound;
    const pending = Math.max(0, selected - answered);
    const deadlineAt = open.openedAt + roundDeadlineSeconds * 1000;
    round = {
      round: open.round,
      openedAt: open.openedAt,
      deadlineAt,
      extendedTo: open.deadlineAt > deadlineAt ? open.deadlineAt : null,
      selected,
      everyone,
      answered,
      pending,
      late: now > deadlineAt ? pending : 0,
      quorum: minClients,
    };
  }
  const refused: Record<string, number> = {};
  for (const v of (await metrics.updatesRejected.get()).values) {
    const reason = String(v.labels.reason ?? 'unknown');
    if (v.value > 0) refused[reason] = (refused[reason] ?? 0) + v.value;
  }
  return {
    now,
    model: { version: status.completedRounds, totalRounds: status.totalRounds, done: status.done },
    registeredClients: status.registeredClients,
    round,
    updates: {
      accepted: await counter(metrics.updatesAccepted),
      clipped: await counter(metrics.updatesClipped),
      refused,
      bytesReceived: await counter(metrics.bytesReceived),
      bytesSent: await counter(metrics.bytesSent),
    },
    history: await store.closedRounds(),
    evaluations: await evaluations.list(),
  };
}
