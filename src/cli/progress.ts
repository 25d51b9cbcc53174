/**
 * Progress of a training run on stderr: on a terminal a bar with elapsed time, ETA, loss and the
 * latest validation figure; without one (a log file, CI) one line per evaluated round, with elapsed
 * time and ETA. Status lines from the runtime (loading data, encoding texts) print as they come,
 * so nothing is silent for long.
 */
import cliProgress from 'cli-progress';
import { onStatus } from '../report/status.js';
import type { HistoryEntry } from '../report/history.js';

export interface Progress {
  readonly onRound: (entry: HistoryEntry, total: number) => void;
  readonly stop: () => void;
}

export interface ProgressOptions {
  /** The validation figure to show: HR@k at the first K. */
  readonly k: number;
  /** 'round' (federated) or 'epoch' (central). */
  readonly unit: string;
  readonly stream?: NodeJS.WriteStream;
  /** No output at all. */
  readonly quiet?: boolean;
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function startProgress(opts: ProgressOptions): Progress {
  if (opts.quiet) return { onRound: () => {}, stop: () => {} };
  const stream = opts.stream ?? process.stderr;
  const started = performance.now();
  let trainingStarted = 0;
  const elapsed = () => (performance.now() - started) / 1000;
  const tty = stream.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar({ format: ` {bar} {value}/{total} ${opts.unit}s | {elapsedText} elapsed, ETA {etaText} | loss {loss} | {info}`, stream, hideCursor: true }, cliProgress.Presets.shades_classic)
    : null;
  let barStarted = false;
  let lastInfo = ''; // the bar keeps the latest validation figure between evaluated rounds
  const unsubscribe = onStatus((line) => {
    if (barStarted) return; // the bar owns the line once rounds run
    stream.write(`fedrec: ${line} (${duration(elapsed())})\n`);
  });
  const onRound = (entry: HistoryEntry, total: number) => {
    if (trainingStarted === 0) trainingStarted = performance.now() - entry.seconds * 1000;
    const perRound = (performance.now() - trainingStarted) / 1000 / entry.round;
    const eta = perRound * (total - entry.round);
    const hr = entry.validation.sampled?.[`HR@${opts.k}`] ?? entry.validation.full?.[`HR@${opts.k}`];
    const ndcg = entry.validation.sampled?.[`NDCG@${opts.k}`] ?? entry.validation.full?.[`NDCG@${opts.k}`];
    const rmse = entry.validation.explicit?.rmse;
    const info = hr !== undefined ? `val HR@${opts.k} ${hr.toFixed(4)} NDCG@${opts.k} ${(ndcg ?? NaN).toFixed(4)}` : rmse !== undefined ? `val RMSE ${rmse.toFixed(4)}` : '';
    if (bar) {
      if (info !== '') lastInfo = info;
      const fields = { loss: entry.loss.toFixed(4), info: lastInfo, elapsedText: duration(elapsed()), etaText: duration(eta) };
      if (!barStarted) {
        bar.start(total, entry.round, fields);
        barStarted = true;
      } else {
        bar.update(entry.round, fields);
      }
    } else if (info !== '' || entry.round === total) {
      stream.write(`fedrec: ${opts.unit} ${entry.round}/${total}  loss ${entry.loss.toFixed(4)}${info ? `  ${info}` : ''}  ${duration(elapsed())} elapsed, ETA ${duration(eta)}\n`);
    }
  };
  return {
    onRound,
    stop: () => {
      unsubscribe();
      bar?.stop();
    },
  };
}
