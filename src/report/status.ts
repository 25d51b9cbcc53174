/**
 * What a run is doing between rounds (loading data, encoding texts, evaluating), published on a
 * Node diagnostics channel so the runtime needs no logger: the CLI subscribes and prints a line, a
 * library user may subscribe too, and nobody pays when nobody listens.
 */
import diagnostics_channel from 'node:diagnostics_channel';

export const STATUS_CHANNEL = 'fedrec:status';

const channel = diagnostics_channel.channel(STATUS_CHANNEL);

/** Publish one short line, e.g. "encoding 943 user texts with use". */
export function reportStatus(line: string): void {
  if (channel.hasSubscribers) channel.publish(line);
}

/** Receive status lines until the returned function is called. */
export function onStatus(listener: (line: string) => void): () => void {
  const handler = (message: unknown) => listener(String(message));
  diagnostics_channel.subscribe(STATUS_CHANNEL, handler);
  return () => diagnostics_channel.unsubscribe(STATUS_CHANNEL, handler);
}
