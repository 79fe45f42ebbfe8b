import { prometheusClient, type PrometheusClient } from '../adapters/prometheus.js';
import type { AuditStore } from '../audit/store.js';
import { prometheusHeaders, secretValues, type WatchConfig } from '../core/watch/config.js';

/**
 * A Prometheus client for the watch's configuration: secrets (`{env: NAME}` or literals) resolved from the
 * environment and registered with the audit store for redaction before any query goes out; an unset variable is
 * refused by name rather than sent as nothing.
 */
export function openPrometheus(
  config: WatchConfig,
  store?: Pick<AuditStore, 'addSecrets'>,
  env: NodeJS.ProcessEnv = process.env,
): { client: PrometheusClient } | { error: string } {
  const { headers, missing } = prometheusHeaders(config, env);
  if (missing.length)
    return {
      error: `the watch's Prometheus credentials come from ${missing.map((m) => `$${m}`).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not set`,
    };
  store?.addSecrets(secretValues(config, env));
  return { client: prometheusClient({ url: config.prometheus.url, timeoutMs: config.prometheus.timeoutMs, headers }) };
}
