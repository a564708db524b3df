/** `--advertise`, `--cluster-token` and `--lease-ms` (src/cluster/cluster-options.ts): a cluster node's settings, and the errors that name the option at fault. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LEASE_MS, clusterOptions } from '../../src/cluster/cluster-options.js';
import { isThaloError } from '../../src/errors.js';

const STORE = 'postgres://postgres@127.0.0.1:5432/test';

function failure(input: Parameters<typeof clusterOptions>[0]): string {
  try {
    clusterOptions(input);
  } catch (error) {
    expect(isThaloError(error, 'INVALID_ARGUMENT')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('cluster options', () => {
  it('is no cluster without --advertise', () => {
    expect(clusterOptions({ store: STORE })).toBeUndefined();
    expect(clusterOptions({})).toBeUndefined();
  });

  it('gives a new node id at each start, the URL without its trailing slash, and the default lease', () => {
    const a = clusterOptions({ advertise: 'http://10.0.0.1:4433/', clusterToken: 's3cret', store: STORE })!;
    const b = clusterOptions({ advertise: 'http://10.0.0.1:4433/', clusterToken: 's3cret', store: STORE })!;
    expect(a).toMatchObject({ url: 'http://10.0.0.1:4433', token: 's3cret', leaseMs: DEFAULT_LEASE_MS });
    expect(a.nodeId).not.toBe(b.nodeId);
    expect(clusterOptions({ advertise: 'http://h:1', clusterToken: 't', store: STORE, leaseMs: 900 })!.leaseMs).toBe(900);
  });

  it('names the option at fault', () => {
    expect(failure({ advertise: 'http://h:1', clusterToken: 't' })).toContain('--advertise (THALO_ADVERTISE) needs --store postgres://');
    expect(failure({ advertise: 'http://h:1', store: STORE })).toContain('--advertise needs --cluster-token (THALO_CLUSTER_TOKEN)');
    expect(failure({ advertise: 'not a url', clusterToken: 't', store: STORE })).toContain('--advertise must be the http:// URL');
    expect(failure({ advertise: 'ftp://h:1', clusterToken: 't', store: STORE })).toContain(
      '--advertise must be an http:// or https:// URL',
    );
    expect(failure({ clusterToken: 't', store: STORE })).toContain('--cluster-token (THALO_CLUSTER_TOKEN) needs --advertise');
  });
});
