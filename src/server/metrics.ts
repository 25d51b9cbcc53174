/**
 * Prometheus metrics of one coordinator (its own prom-client registry, so several coordinators in
 * one process — tests — do not collide): rounds, updates accepted / rejected by reason, bytes in and
 * out, request latency, the open round, plus the default process metrics (RSS, CPU, event loop).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly roundsCompleted = new Counter({ name: 'fedrec_rounds_completed_total', help: 'Rounds aggregated and checkpointed', registers: [this.registry] });
  readonly currentRound = new Gauge({ name: 'fedrec_round_open', help: 'The open round (0 when none)', registers: [this.registry] });
  readonly roundUpdates = new Gauge({ name: 'fedrec_round_updates', help: 'Updates accepted in the open round', registers: [this.registry] });
  readonly updatesAccepted = new Counter({ name: 'fedrec_updates_accepted_total', help: 'Client updates accepted', registers: [this.registry] });
  readonly updatesClipped = new Counter({ name: 'fedrec_updates_clipped_total', help: 'Accepted updates scaled down to the norm bound', registers: [this.registry] });
  readonly updatesRejected = new Counter({
    name: 'fedrec_updates_rejected_total',
    help: 'Client updates rejected, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly foldsRefused = new Counter({
    name: 'fedrec_folds_refused_total',
    help: 'Rounds whose aggregate was refused (a non-finite value would have entered the model or the server optimiser state): alert on any',
    registers: [this.registry],
  });
  readonly connectionsEvicted = new Counter({ name: 'fedrec_connections_evicted_total', help: 'Connections closed to stay within maxConnections (oldest idle first)', registers: [this.registry] });
  /** What `fedrec_connections_open` reads at each scrape (set by the app). */
  countConnections: () => number = () => 0;
  readonly openConnections: Gauge = new Gauge({
    name: 'fedrec_connections_open',
    help: 'Open TCP connections',
    registers: [this.registry],
    collect: (): void => this.openConnections.set(this.countConnections()),
  });
  readonly deadlineExtensions = new Gauge({
    name: 'fedrec_round_deadline_extensions',
    help: 'Times the open round\'s deadline was extended for want of a quorum (a stuck quorum keeps it above 0)',
    registers: [this.registry],
  });
  readonly roundsAborted = new Counter({ name: 'fedrec_rounds_aborted_total', help: 'Rounds aborted after maxDeadlineExtensions without a quorum', registers: [this.registry] });
  readonly bytesReceived = new Counter({ name: 'fedrec_bytes_received_total', help: 'Update bytes received', registers: [this.registry] });
  readonly bytesSent = new Counter({ name: 'fedrec_bytes_sent_total', help: 'Model bytes sent', registers: [this.registry] });
  readonly requestSeconds = new Histogram({
    name: 'fedrec_request_duration_seconds',
    help: 'Request latency by route',
    labelNames: ['route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly aggregationSeconds = new Histogram({
    name: 'fedrec_aggregation_duration_seconds',
    help: 'Time to aggregate and checkpoint a round',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly dpEpsilon = new Gauge({ name: 'fedrec_dp_epsilon_spent', help: 'User-level DP: ε spent by the completed rounds (RDP accountant, at the configured δ); absent without DP', registers: [this.registry] });
  readonly dpClipNorm = new Gauge({ name: 'fedrec_dp_clip_norm', help: 'User-level DP: the current clip norm C', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
