/**
 * A lease of a projection or relay as the cluster's views show it (`GET /v1/cluster`, `thalo
 * cluster`): who runs the consumer now, under which fence, and how long the lease still lasts.
 */

export interface LeaseInfo {
  /** The consumer's name (`audit`, `relay:redis://…`), without the kind. */
  name: string;
  kind: 'projection' | 'relay';
  /** The node id holding it, or null when it was released and nobody took it yet. */
  holder: string | null;
  /** The fencing token: +1 at every change of holder. */
  fence: number;
  /** Milliseconds until it expires by the database's clock; 0 or less when it has expired. */
  expiresInMs: number;
}

/** The lease row's name for a consumer: `projection:<name>` or `relay:<name>`. */
export function leaseName(kind: LeaseInfo['kind'], name: string): string {
  return `${kind}:${name}`;
}
